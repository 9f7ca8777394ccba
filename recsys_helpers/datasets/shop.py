"""The embedded simulated shop: a year of a believable online shop, with a clock.

Everything is seeded: the same arguments give the same data on every machine.
The default (1,000 users x 400 items) builds in about a second;
``make_shop(n_users=100_000)`` in well under a minute.

Generative story
----------------
1. **Catalogue.** Items belong to a subcategory of a category ("Electronics",
   "Television") and carry a brand, a title, tag text in the seed's style
   ("Electronics, Television, QLED"), a ``kind`` (``"durable"`` or
   ``"consumable"``: beans, tea, snacks) and a ``launched`` timestamp. About
   half the catalogue was on sale before the year starts; the rest launches
   through the year. An item cannot be bought before it launches; it sells
   most in its first weeks (a launch peak that decays with a time constant of
   ``LAUNCH_DECAY_DAYS``). Each item has a latent quality, which sets its
   appeal (log-normal: a heavy tail of best sellers) and its ratings.
2. **Tastes.** A user's interest in categories is a sparse Dirichlet draw
   (most users care about two or three), then over the subcategories of each
   category; brand taste is another sparse Dirichlet draw. Some users'
   tastes drift: a life event (day ``drift_day``) moves their interest to a
   second taste vector over about ``DRIFT_DAYS`` days.
3. **Time.** Users join through the year and shop in sessions of one to a few
   purchases, minutes apart; sessions are spread over the rest of the year.
   Seasonal subcategories sell more in their season (jackets in winter,
   tents and sleeping bags in summer, tea in winter).
4. **Next purchase.** At each purchase the item is drawn from the hidden
   truth below, given the user's history so far. So the order of a user's
   purchases comes from the process (launches, seasons, habits, drift,
   repeats), not from a ranking of their tastes.
5. **Ratings** (1-5) come from the item's quality, the user's fit with the
   brand and the subcategory, a user bias and noise; a second durable of a
   subcategory the user already owns one of is rated lower (it is compared
   with the first).

The hidden truth
----------------
For user u at time t with history H (their earlier purchases), the
probability that the next purchase is item i is

    P(i | u, t, H)  ∝  M(u, s(i), t, H) * π(u, i, t, H)  +  R(u, i, t, H)

* ``M`` is the demand for subcategory s: the user's (drifting) interest, times
  the season, times ``OWNED_DAMPING`` per durable of s already owned, plus the
  **habits**: buying into a source subcategory (a TV) adds demand
  ``strength * exp(-(t - t_source) / HABIT_DAYS)`` for its target (a
  soundbar) until the user buys the target.
* ``π`` shares that demand among the items of s on sale at t in proportion to
  ``appeal(i) * brand_fit(u, i) * launch_curve(i, t)``; a durable the user
  owns gets 0.
* ``R`` is the **repeat** demand for a consumable bought before, peaking
  when the time since its last purchase reaches the user's rhythm
  (``repeat_days``, 14-45 days).

:class:`ShopTruth` computes this for any users, times and histories, in
chunks, without storing a users x items table (1,000,000 users x 400 items
would be 1.6 GB even in float32)::

    truth = data.load("shop").truth
    proba = truth.next_item_proba(user_ids, at, history)   # (n, n_items)

``history`` is any frame of purchases (``user_id``, ``item_id``,
``timestamp``): only rows of the given users strictly before ``at`` count, so
a simulator can pass histories that a policy changed. The Oracle ranks by it.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
import pandas as pd

from recsys_helpers.columns import ITEM, RATING, TIMESTAMP, USER

__all__ = ["CATALOG", "CONSUMABLES", "HABITS", "SEASONS", "ShopTruth", "make_shop"]

# category -> subcategory -> (features, brands, noun)
CATALOG: dict[str, dict[str, tuple[list[str], list[str], str]]] = {
    "Electronics": {
        "Television": (["QLED", "OLED", "4K"], ["Samsung", "LG", "Sony"], "TV"),
        "Computer": (["Ultrabook", "Gaming"], ["Apple", "Dell", "Lenovo"], "Laptop"),
        "Tablet": (["E-Reader", "Drawing"], ["Kindle", "Apple", "Samsung"], "Tablet"),
        "Camera": (["Mirrorless", "Action"], ["Canon", "Sony", "GoPro"], "Camera"),
        "Phone": (["5G", "Foldable"], ["Apple", "Samsung", "Google"], "Phone"),
    },
    "Audio": {
        "Soundbar": (
            ["Dolby Atmos", "Wireless"],
            ["Sonos", "Bose", "Yamaha"],
            "Soundbar",
        ),
        "Headphones": (
            ["Noise Cancelling", "Earbuds"],
            ["Bose", "Sony", "Jabra"],
            "Headphones",
        ),
    },
    "Office": {
        "Bag": (["Backpack", "Sleeve"], ["Targus", "Herschel"], "Laptop Bag"),
        "Mouse": (["Ergonomic", "Wireless"], ["Logitech", "Razer"], "Mouse"),
        "Desk": (["Standing", "Compact"], ["Ikea", "Flexispot"], "Desk"),
    },
    "Clothing": {
        "Shoes": (["Leather", "Canvas"], ["Clarks", "Vans", "Ecco"], "Shoes"),
        "Jacket": (["Rain", "Down"], ["Patagonia", "Uniqlo"], "Jacket"),
        "Shirt": (["Linen", "Cotton"], ["Uniqlo", "Levi's"], "Shirt"),
    },
    "Outdoors": {
        "Tent": (["2-Person", "Family"], ["Coleman", "MSR"], "Tent"),
        "Sleeping": (["Down", "Synthetic"], ["Coleman", "Marmot"], "Sleeping Bag"),
        "Hiking": (["Trail", "Waterproof"], ["Salomon", "Merrell"], "Hiking Boots"),
    },
    "Fitness": {
        "Running": (["Road", "Trail"], ["Nike", "Asics", "Brooks"], "Running Shoes"),
        "Yoga": (["Cork", "Travel"], ["Manduka", "Gaiam"], "Yoga Mat"),
        "Weights": (["Adjustable", "Kettlebell"], ["Bowflex", "Rogue"], "Weights"),
    },
    "Wearables": {
        "Watch": (["GPS", "Smart"], ["Garmin", "Apple", "Fitbit"], "Watch"),
    },
    "Kitchen": {
        "Coffee": (["Espresso", "Drip"], ["DeLonghi", "Breville"], "Coffee Machine"),
        "Cookware": (["Cast Iron", "Nonstick"], ["Lodge", "Tefal"], "Pan"),
        "Blender": (["High-Speed", "Personal"], ["Vitamix", "Ninja"], "Blender"),
    },
    "Grocery": {
        "Beans": (["Arabica", "Decaf"], ["Lavazza", "Illy"], "Coffee Beans"),
        "Tea": (["Green", "Herbal"], ["Twinings", "Yogi"], "Tea"),
        "Snacks": (["Protein", "Organic"], ["Kind", "Clif"], "Bars"),
    },
    "Books": {
        "Novel": (["Mystery", "Sci-Fi"], ["Penguin", "Vintage"], "Novel"),
        "Cookbook": (["Baking", "Vegetarian"], ["Phaidon", "Ten Speed"], "Cookbook"),
        "Travel": (["Europe", "Asia"], ["Lonely Planet", "Rough Guides"], "Guide"),
    },
}

# (source subcategory, target subcategory, strength): buying into the source
# adds demand for the target over the following weeks, until the user buys it.
# Their tags share no word except Tent -> Sleeping ("Outdoors"): only methods
# that learn from behaviour find the others.
HABITS: list[tuple[str, str, float]] = [
    ("Television", "Soundbar", 1.5),
    ("Computer", "Bag", 1.0),
    ("Computer", "Mouse", 1.0),
    ("Phone", "Headphones", 0.8),
    ("Coffee", "Beans", 1.5),
    ("Running", "Watch", 0.8),
    ("Camera", "Travel", 0.6),
    ("Cookware", "Cookbook", 0.8),
    ("Yoga", "Tea", 0.6),
    ("Tent", "Sleeping", 1.2),
]
# Subcategories whose items are used up and bought again.
CONSUMABLES = ("Beans", "Tea", "Snacks")
# Seasonal subcategories: day of the year their sales peak.
SEASONS = {"Jacket": 15, "Tea": 15, "Tent": 196, "Sleeping": 196}

YEAR_START = 1_735_689_600  # 2025-01-01 UTC, seconds
DAY = 86_400
YEAR_DAYS = 365.0
SEASON_AMPLITUDE = 0.8  # season factor 1 +- this
LAUNCH_PEAK = 4.0  # extra appeal at launch, over the long-run level of 1
LAUNCH_DECAY_DAYS = 40.0
FADE_DAYS = 250.0  # every item's appeal fades with age, on top of the launch peak
HABIT_DAYS = 21.0
OWNED_DAMPING = 0.8  # demand factor per durable of the subcategory owned
DRIFT_DAYS = 10.0
REPEAT_WEIGHT = 0.5
SESSION_HOURS = 2.0  # purchases this close belong to one session
SESSION_FOCUS = 6.0  # extra demand for the category of the session's last purchase
CURIOSITY = 0.002  # interest everyone has in every subcategory


@dataclass(frozen=True, eq=False)
class ShopFrames:
    """The generated frames and the hidden truth."""

    interactions: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    truth: ShopTruth


def _subcategories() -> list[tuple[str, str, list[str], list[str], str]]:
    return [
        (cat, sub, feats, brands, noun)
        for cat, subs in CATALOG.items()
        for sub, (feats, brands, noun) in subs.items()
    ]


def _days(timestamps: np.ndarray) -> np.ndarray:
    return (np.asarray(timestamps, dtype=np.float64) - YEAR_START) / DAY


@dataclass(frozen=True, eq=False)
class ShopTruth:
    """The shop's hidden truth: P(next purchase = i | user, time, history).

    Built by :func:`make_shop`; see the module docstring for the formula.
    Arrays are in the dataset's user and item order.
    """

    user_ids: np.ndarray
    item_ids: np.ndarray
    item_sub: np.ndarray  # subcategory index of each item
    sub_category: np.ndarray  # category index of each subcategory
    item_brand: np.ndarray
    consumable: np.ndarray  # bool per item
    launch_day: np.ndarray  # days since YEAR_START (negative: before the year)
    appeal: np.ndarray
    interest_before: np.ndarray  # users x subcategories
    interest_after: np.ndarray  # after the user's life event
    drift_day: np.ndarray  # inf for users whose tastes do not drift
    brand_taste: np.ndarray  # users x brands
    repeat_days: np.ndarray  # rhythm of each user's repeat purchases
    habits: np.ndarray  # (source sub, target sub, strength) rows
    season_peak: np.ndarray  # per subcategory, NaN if not seasonal

    @property
    def n_items(self) -> int:
        """Number of catalogue items (columns of every probability matrix)."""
        return self.item_ids.size

    @property
    def n_subcategories(self) -> int:
        """Number of subcategories."""
        return self.interest_before.shape[1]

    # ---------------------------------------------------------------- public
    def next_item_proba(
        self,
        user_ids: np.ndarray,
        at: np.ndarray | int,
        history: pd.DataFrame,
        chunk_size: int = 2048,
    ) -> np.ndarray:
        """P(next purchase = each item) for users at times, given histories.

        Args:
            user_ids: Ids of shop users (a user may repeat, at other times).
            at: Timestamps (seconds), one per user or one for all.
            history: Purchases (``user_id``, ``item_id``, ``timestamp``); for
                each query only the rows of its user strictly before its time
                count. Any history is allowed, not just the generated one.
            chunk_size: Queries computed at once (memory: chunk x n_items).

        Returns:
            Float array (len(user_ids), n_items); each row sums to 1.

        Raises:
            KeyError: An unknown user or item id.
        """
        rows = self.user_rows(user_ids)
        at = np.broadcast_to(np.asarray(at, dtype=np.int64), rows.shape)
        events = self._history_events(history)
        out = np.empty((rows.size, self.n_items))
        for start in range(0, rows.size, chunk_size):
            part = slice(start, start + chunk_size)
            last = self._last_bought(rows[part], at[part], events)
            weights = self.weights(rows[part], _days(at[part]), last)
            out[part] = weights / weights.sum(axis=1, keepdims=True)
        return out

    def user_rows(self, user_ids: np.ndarray) -> np.ndarray:
        """Row of each user id; KeyError on an unknown id."""
        query = np.atleast_1d(np.asarray(user_ids))
        rows = pd.Index(self.user_ids).get_indexer(query)
        if (rows < 0).any():
            raise KeyError(f"unknown user id(s) {query[rows < 0][:5].tolist()}.")
        return rows.astype(np.int64)

    # -------------------------------------------------------------- internals
    def interest(self, rows: np.ndarray, t: np.ndarray) -> np.ndarray:
        """Users' interest in each subcategory at times ``t`` (days)."""
        with np.errstate(over="ignore"):
            moved = 1.0 / (1.0 + np.exp(-(t - self.drift_day[rows]) / DRIFT_DAYS))
        moved = moved[:, None]
        return (1 - moved) * self.interest_before[rows] + moved * self.interest_after[
            rows
        ]

    def _season(self, t: np.ndarray) -> np.ndarray:
        phase = 2 * np.pi * (t[:, None] - self.season_peak[None, :]) / YEAR_DAYS
        factor = 1 + SEASON_AMPLITUDE * np.cos(phase)
        return np.where(np.isnan(self.season_peak)[None, :], 1.0, factor)

    def _sub_sum(self, values: np.ndarray) -> np.ndarray:
        """Sum item columns into subcategory columns."""
        one_hot = np.eye(self.n_subcategories)[self.item_sub]
        return values @ one_hot

    def demand(
        self, rows: np.ndarray, t: np.ndarray, last: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Subcategory demand M, the users' interest, durables owned per sub.

        All three are (users x subcategories); see the module docstring.
        """
        owned = np.isfinite(last) & ~self.consumable[None, :]
        owned_per_sub = self._sub_sum(owned.astype(np.float64))
        interest = self.interest(rows, t)
        demand = interest * self._season(t) * OWNED_DAMPING**owned_per_sub
        # a session has a mission: the category of the purchase just made
        previous_t = last.max(axis=1)
        previous = last.argmax(axis=1)
        in_session = np.isfinite(previous_t) & (t - previous_t < SESSION_HOURS / 24)
        same = (
            self.sub_category[None, :]
            == self.sub_category[self.item_sub[previous]][:, None]
        )
        demand *= 1 + SESSION_FOCUS * (same & in_session[:, None])
        for source, target, strength in self.habits:
            source_t = last[:, self.item_sub == int(source)].max(axis=1)
            target_t = last[:, self.item_sub == int(target)].max(axis=1)
            active = np.isfinite(source_t) & (source_t > target_t)
            elapsed = np.where(active, t - source_t, np.inf)
            demand[:, int(target)] += strength * np.exp(-elapsed / HABIT_DAYS)
        return demand, interest, owned_per_sub

    def item_share(
        self, rows: np.ndarray, t: np.ndarray, last: np.ndarray
    ) -> np.ndarray:
        """π: how the users' demand for a subcategory spreads over its items.

        ``appeal * brand_fit * launch_curve`` for items on sale and not owned,
        scaled so that an average subcategory's items sum to about 1. The
        launch curve ``exp(-age / FADE_DAYS) * (1 + LAUNCH_PEAK *
        exp(-age / LAUNCH_DECAY_DAYS))`` factorises into functions of t and of
        the launch day, so it costs two outer products, no exponential per
        (user, item).
        """
        launch = self.launch_day
        fade = 1 / FADE_DAYS
        peak = fade + 1 / LAUNCH_DECAY_DAYS
        f32 = np.float32
        curve = np.exp(-t * fade).astype(f32)[:, None] * self._launch_terms[0]
        curve += np.exp(-t * peak).astype(f32)[:, None] * self._launch_terms[1]
        curve *= t[:, None] >= launch[None, :]
        curve *= ~(np.isfinite(last) & ~self.consumable[None, :])
        curve *= self._brand_sqrt[rows][:, self.item_brand]
        curve *= self._scaled_appeal
        return curve

    @cached_property
    def _launch_terms(self) -> tuple[np.ndarray, np.ndarray]:
        fade = 1 / FADE_DAYS
        peak = fade + 1 / LAUNCH_DECAY_DAYS
        return (
            np.exp(self.launch_day * fade).astype(np.float32),
            (LAUNCH_PEAK * np.exp(self.launch_day * peak)).astype(np.float32),
        )

    @cached_property
    def _brand_sqrt(self) -> np.ndarray:
        return np.sqrt(self.brand_taste).astype(np.float32)

    @cached_property
    def _scaled_appeal(self) -> np.ndarray:
        scale = self.appeal.mean() * self.n_items / self.n_subcategories
        return (self.appeal / scale).astype(np.float32)

    def weights(
        self,
        rows: np.ndarray,
        t: np.ndarray,
        last: np.ndarray,
        demand: np.ndarray | None = None,
    ) -> np.ndarray:
        """Unnormalised next-purchase weights (users x items).

        Args:
            rows: User rows.
            t: Time of each query, days since YEAR_START.
            last: Day of each user's last purchase of each item (-inf: never).
            demand: :meth:`demand`'s first output, if already computed.
        """
        if demand is None:
            demand = self.demand(rows, t, last)[0]
        weights = self.item_share(rows, t, last).astype(np.float64)
        weights *= demand[:, self.item_sub]
        since = t[:, None] - last[:, self.consumable]
        rhythm = self.repeat_days[rows][:, None]
        with np.errstate(invalid="ignore"):
            bump = np.exp(-0.5 * ((since - rhythm) / (0.3 * rhythm)) ** 2)
        weights[:, self.consumable] += REPEAT_WEIGHT * np.where(
            np.isfinite(since) & (since > 0), bump, 0.0
        )
        empty = weights.sum(axis=1) <= 0  # nothing left: anything on sale
        weights[empty] = (t[empty, None] >= self.launch_day[None, :]).astype(float)
        return weights

    def _history_events(self, history: pd.DataFrame) -> pd.DataFrame:
        missing = [c for c in (USER, ITEM, TIMESTAMP) if c not in history]
        if missing:
            raise KeyError(f"history is missing column(s) {missing}.")
        cols = pd.Index(self.item_ids).get_indexer(history[ITEM].to_numpy())
        if (cols < 0).any():
            bad = history[ITEM].to_numpy()[cols < 0][:5].tolist()
            raise KeyError(f"history names unknown item id(s) {bad}.")
        return pd.DataFrame(
            {
                USER: history[USER].to_numpy(),
                "col": cols,
                TIMESTAMP: history[TIMESTAMP].to_numpy(dtype=np.int64),
            }
        )

    def _last_bought(
        self, rows: np.ndarray, at: np.ndarray, events: pd.DataFrame
    ) -> np.ndarray:
        query = pd.DataFrame(
            {"q": np.arange(rows.size), USER: self.user_ids[rows], "at": at}
        )
        joined = query.merge(events, on=USER)
        joined = joined[joined[TIMESTAMP] < joined["at"]]
        last = np.full((rows.size, self.n_items), -np.inf)
        np.maximum.at(
            last,
            (joined["q"].to_numpy(), joined["col"].to_numpy()),
            _days(joined[TIMESTAMP].to_numpy()),
        )
        return last


def _make_items(n_items: int, rng: np.random.Generator) -> pd.DataFrame:
    subs = _subcategories()
    # every subcategory gets at least 3 items; the rest follow a skewed share
    share = rng.dirichlet(np.full(len(subs), 2.0))
    counts = 3 + rng.multinomial(n_items - 3 * len(subs), share)
    rows = []
    for (cat, sub, feats, brands, noun), count in zip(subs, counts, strict=True):
        for j in range(count):
            feature = feats[rng.integers(len(feats))]
            brand = brands[rng.integers(len(brands))]
            model = f"{noun} {100 + 10 * j + int(rng.integers(10))}"
            rows.append(
                {
                    "title": f"{brand} {feature} {model}",
                    "category": cat,
                    "subcategory": sub,
                    "brand": brand,
                    "tags": f"{cat}, {sub}, {feature}",
                    "kind": "consumable" if sub in CONSUMABLES else "durable",
                }
            )
    items = pd.DataFrame(rows)
    items = items.sample(frac=1.0, random_state=rng.integers(2**31)).reset_index(
        drop=True
    )
    items.insert(0, ITEM, np.arange(1, len(items) + 1, dtype=np.int64))
    # half the catalogue was on sale before the year; the rest launches in it
    new = rng.random(len(items)) < 0.5
    launch_day = np.where(
        new, rng.uniform(0, 350, len(items)), rng.uniform(-400, -30, len(items))
    ).round()
    items["launched"] = YEAR_START + launch_day.astype(np.int64) * DAY
    return items


def _interest(n_users: int, rng: np.random.Generator) -> np.ndarray:
    """Interest of each user in each subcategory (rows sum to about 1)."""
    cats = list(CATALOG)
    sub_cat = np.array([cats.index(c) for c, *_ in _subcategories()])
    cat_interest = rng.dirichlet(np.full(len(cats), 0.25), size=n_users)
    within = np.empty((n_users, sub_cat.size))
    for c in range(len(cats)):
        members = np.flatnonzero(sub_cat == c)
        within[:, members] = rng.dirichlet(np.full(members.size, 0.3), size=n_users)
    return cat_interest[:, sub_cat] * within + CURIOSITY


def _make_truth(
    items: pd.DataFrame, n_users: int, rng: np.random.Generator
) -> ShopTruth:
    subs = [s for _, s, *_ in _subcategories()]
    sub_index = {s: k for k, s in enumerate(subs)}
    brands = sorted(items["brand"].unique())
    drifts = rng.random(n_users) < 0.3
    habits = np.array(
        [(sub_index[a], sub_index[b], strength) for a, b, strength in HABITS]
    )
    peaks = np.array([SEASONS.get(s, np.nan) for s in subs], dtype=np.float64)
    return ShopTruth(
        user_ids=np.arange(1, n_users + 1, dtype=np.int64),
        item_ids=items[ITEM].to_numpy(),
        item_sub=items["subcategory"].map(sub_index).to_numpy(),
        sub_category=np.array([list(CATALOG).index(c) for c, *_ in _subcategories()]),
        item_brand=items["brand"].map({b: k for k, b in enumerate(brands)}).to_numpy(),
        consumable=(items["kind"] == "consumable").to_numpy(),
        launch_day=_days(items["launched"].to_numpy()),
        appeal=rng.lognormal(0.0, 1.4, size=len(items)),
        interest_before=_interest(n_users, rng),
        interest_after=_interest(n_users, rng),
        drift_day=np.where(drifts, rng.uniform(60, 330, n_users), np.inf),
        brand_taste=rng.dirichlet(np.full(len(brands), 0.3), size=n_users)
        * len(brands),
        repeat_days=rng.uniform(14, 45, n_users),
        habits=habits,
        season_peak=peaks,
    )


def _schedule(
    n_users: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """When each user shops: (user row, position, day, joined day) per event.

    Events are sorted by user then time; a user's times strictly increase.
    """
    joined = rng.uniform(0, 270, n_users)
    n_events = np.clip(np.round(rng.lognormal(2.35, 1.0, n_users)), 5, 250)
    n_events = n_events.astype(np.int64)
    user = np.repeat(np.arange(n_users), n_events)
    starts = np.concatenate([[0], np.cumsum(n_events)[:-1]])
    position = np.arange(user.size) - np.repeat(starts, n_events)
    new_session = (rng.random(user.size) < 0.55) | (position == 0)
    session = np.cumsum(new_session) - 1  # global session index
    session_user = user[new_session]
    session_day = joined[session_user] + rng.random(session_user.size) * (
        YEAR_DAYS - joined[session_user]
    )
    session_day = session_day[np.lexsort((session_day, session_user))]
    minutes = rng.uniform(2, 15, user.size) * ~new_session
    first = np.flatnonzero(new_session)
    offset = np.cumsum(minutes) - np.cumsum(minutes)[first][session]
    seconds = np.round((session_day[session] + offset / 1440) * DAY).astype(np.int64)
    # strictly increasing within a user: t_i = max(t_i, t_{i-1} + 1)
    key = seconds - position + user * (10 * 366 * DAY)
    seconds = np.maximum.accumulate(key) - user * (10 * 366 * DAY) + position
    return user, position, seconds / DAY, joined


def _rating(
    truth: ShopTruth,
    rows: np.ndarray,
    items: np.ndarray,
    interest: np.ndarray,
    owned_per_sub: np.ndarray,
    user_bias: np.ndarray,
    rng: np.random.Generator,
) -> np.ndarray:
    """1-5 stars from quality, brand and subcategory fit, bias and noise."""
    sub = truth.item_sub[items]
    quality = np.log(truth.appeal[items]) / 1.4
    brand_fit = np.log(truth.brand_taste[rows, truth.item_brand[items]] + 0.05)
    sub_fit = np.log(interest[np.arange(rows.size), sub] * truth.n_subcategories)
    second = owned_per_sub[np.arange(rows.size), sub] * ~truth.consumable[items]
    stars = (
        3.6
        + 0.45 * quality
        + 0.25 * brand_fit
        + 0.15 * sub_fit
        - 0.4 * second
        + user_bias[rows]
        + rng.normal(0, 0.6, rows.size)
    )
    return np.clip(np.round(stars), 1, 5)


def make_shop(n_users: int = 1000, n_items: int = 400, seed: int = 7) -> ShopFrames:
    """Simulate a year of the shop.

    Args:
        n_users: Number of users.
        n_items: Number of catalogue items (at least 3 per subcategory).
        seed: Seed of every random draw: the same arguments give the same data.

    Returns:
        The interactions (user_id, item_id, rating, timestamp; one row per
        purchase, repeats of consumables included, sorted by time), items
        (item_id, title, category, subcategory, brand, tags, kind, launched),
        users (user_id, joined) and the hidden truth.

    Raises:
        ValueError: Too few users or items.
    """
    n_subs = len(_subcategories())
    if n_users < 1:
        raise ValueError(f"n_users must be >= 1, got {n_users}.")
    if n_items < 3 * n_subs:
        raise ValueError(f"n_items must be >= {3 * n_subs}, got {n_items}.")
    rng = np.random.default_rng(seed)
    items = _make_items(n_items, rng)
    truth = _make_truth(items, n_users, rng)
    user, position, day, joined = _schedule(n_users, rng)
    user_bias = rng.normal(0, 0.4, n_users)
    chosen = np.empty(user.size, dtype=np.int64)
    rating = np.empty(user.size)
    last = np.full((n_users, n_items), -np.inf, dtype=np.float32)
    by_round = np.argsort(position, kind="stable")
    bounds = np.searchsorted(position[by_round], np.arange(position.max() + 2))
    for r in range(position.max() + 1):
        for start in range(bounds[r], bounds[r + 1], 16_384):
            ev = by_round[start : min(start + 16_384, bounds[r + 1])]
            rows, t = user[ev], day[ev]
            history = last[rows].astype(np.float64)
            demand, interest, owned_per_sub = truth.demand(rows, t, history)
            cdf = np.cumsum(truth.weights(rows, t, history, demand), axis=1)
            draw = rng.random(ev.size) * cdf[:, -1]
            pick = np.minimum((cdf < draw[:, None]).sum(axis=1), n_items - 1)
            rating[ev] = _rating(
                truth, rows, pick, interest, owned_per_sub, user_bias, rng
            )
            chosen[ev] = pick
            last[rows, pick] = t
    timestamp = YEAR_START + np.round(day * DAY).astype(np.int64)
    interactions = pd.DataFrame(
        {
            USER: (user + 1).astype(np.int64),
            ITEM: items[ITEM].to_numpy()[chosen],
            RATING: rating,
            TIMESTAMP: timestamp,
        }
    ).sort_values([TIMESTAMP, USER], kind="stable", ignore_index=True)
    users = pd.DataFrame(
        {
            USER: truth.user_ids,
            "joined": YEAR_START + np.round(joined * DAY).astype(np.int64),
        }
    )
    return ShopFrames(interactions, items, users, truth)
