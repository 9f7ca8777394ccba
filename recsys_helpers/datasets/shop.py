"""The embedded synthetic shop: believable, offline, seeded, fast to build.

Generative story (every step seeded):

1. **Catalogue.** Items belong to a subcategory of a category ("Electronics",
   "Television") and carry a brand, a title and tag text in the seed's style
   ("Electronics, Television, QLED"). Each item has a latent appeal drawn from
   a log-normal distribution, which gives a heavy-tailed popularity; a few
   items are released late in the year (cold-start items for a time split).
2. **Tastes.** A user's interest in categories is a sparse Dirichlet draw (most
   users care about two or three categories); within a category, about
   subcategories and about brands, smaller Dirichlet draws.
3. **Habits across categories.** Buying into some subcategories creates
   demand in others whose tags share no word (TV buyers buy soundbars, coffee
   machine owners buy beans): only collaborative methods can learn these.
4. **Affinity** of user u for item i:
   ``a(u,i) = interest(u, sub(i)) * brand(u, brand(i))**0.5 * appeal(i)``,
   the hidden truth an Oracle ranks by.
5. **Purchases.** Activity is log-normal (heavy tail, at least 5 items); each
   user picks items without replacement with probability proportional to
   affinity (Gumbel top-k), in that order over time. Ratings 1-5 grow with the
   item's rank in the user's affinity.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from recsys_helpers.columns import ITEM, RATING, TIMESTAMP, USER

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

# (from subcategory, to subcategory, strength): buying the first creates demand
# for the second, whose tags share no word with it.
HABITS: list[tuple[str, str, float]] = [
    ("Television", "Soundbar", 0.9),
    ("Computer", "Bag", 0.7),
    ("Computer", "Mouse", 0.7),
    ("Phone", "Headphones", 0.6),
    ("Coffee", "Beans", 0.9),
    ("Running", "Watch", 0.7),
    ("Camera", "Travel", 0.5),
    ("Cookware", "Cookbook", 0.6),
    ("Yoga", "Tea", 0.5),
    ("Tent", "Sleeping", 0.8),
]

YEAR_START = 1_735_689_600  # 2025-01-01 UTC, seconds
DAY = 86_400


@dataclass(frozen=True)
class ShopFrames:
    """The generated frames and the hidden truth."""

    interactions: pd.DataFrame
    items: pd.DataFrame
    users: pd.DataFrame
    affinity: np.ndarray


def _subcategories() -> list[tuple[str, str, list[str], list[str], str]]:
    return [
        (cat, sub, feats, brands, noun)
        for cat, subs in CATALOG.items()
        for sub, (feats, brands, noun) in subs.items()
    ]


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
                }
            )
    items = pd.DataFrame(rows)
    items = items.sample(frac=1.0, random_state=rng.integers(2**31)).reset_index(
        drop=True
    )
    items.insert(0, ITEM, np.arange(1, len(items) + 1, dtype=np.int64))
    late = rng.random(len(items)) < 0.06
    release_day = np.where(late, rng.integers(300, 350, len(items)), 0)
    items["released"] = YEAR_START + release_day * DAY
    return items


def _tastes(n_users: int, items: pd.DataFrame, rng: np.random.Generator) -> np.ndarray:
    """Interest of each user in each subcategory, habits included."""
    subs = [s for _, s, *_ in _subcategories()]
    cats = list(CATALOG)
    sub_cat = np.array([cats.index(c) for c, *_ in _subcategories()])
    cat_interest = rng.dirichlet(np.full(len(cats), 0.25), size=n_users)
    within = np.empty((n_users, len(subs)))
    for c in range(len(cats)):
        members = np.flatnonzero(sub_cat == c)
        within[:, members] = rng.dirichlet(np.full(members.size, 0.3), size=n_users)
    interest = cat_interest[:, sub_cat] * within
    habit = np.zeros((len(subs), len(subs)))
    for source, target, strength in HABITS:
        habit[subs.index(source), subs.index(target)] = strength
    # demand created by habits, on top of a small baseline curiosity
    return interest + interest @ habit + 0.002


def make_shop(n_users: int = 1000, n_items: int = 400, seed: int = 7) -> ShopFrames:
    """Generate the synthetic shop.

    Args:
        n_users: Number of users.
        n_items: Number of catalogue items (at least 3 per subcategory).
        seed: Seed of every random draw: the same arguments give the same data.

    Returns:
        The interactions (user_id, item_id, rating, timestamp), items (title,
        category, subcategory, brand, tags, released), users (user_id,
        joined) and the hidden affinity matrix (users x items, rows summing
        to 1).
    """
    n_subs = len(_subcategories())
    if n_items < 3 * n_subs or n_users < 1:
        raise ValueError(f"need n_users >= 1 and n_items >= {3 * n_subs}.")
    rng = np.random.default_rng(seed)
    items = _make_items(n_items, rng)
    subs = [s for _, s, *_ in _subcategories()]
    item_sub = items["subcategory"].map({s: k for k, s in enumerate(subs)}).to_numpy()
    brands = sorted(items["brand"].unique())
    item_brand = items["brand"].map({b: k for k, b in enumerate(brands)}).to_numpy()

    interest = _tastes(n_users, items, rng)
    brand_taste = rng.dirichlet(np.full(len(brands), 0.3), size=n_users)
    appeal = rng.lognormal(0.0, 1.2, size=len(items))
    affinity = (
        interest[:, item_sub]
        * (brand_taste[:, item_brand] * len(brands)) ** 0.5
        * appeal
    )
    affinity /= affinity.sum(axis=1, keepdims=True)

    activity = np.clip(rng.lognormal(2.5, 0.75, size=n_users), 5, 150).astype(int)
    # Gumbel top-k = sampling without replacement proportional to affinity
    keys = np.log(affinity) + rng.gumbel(size=affinity.shape)
    order = np.argsort(-keys, axis=1, kind="stable")
    user_idx = np.repeat(np.arange(n_users), activity)
    step = np.concatenate([np.arange(n) for n in activity])
    item_idx = order[user_idx, step]

    joined_day = rng.integers(0, 200, size=n_users)
    gaps = rng.exponential(1.0, size=user_idx.size)
    span = rng.uniform(60, 330 - joined_day)  # days over which a user shops
    starts = np.concatenate([[0], np.cumsum(activity)[:-1]])
    running = np.cumsum(gaps)
    before_first = np.concatenate([[0.0], running])[starts]
    cum = running - np.repeat(before_first, activity)  # per-user running sum
    totals = np.repeat(cum[starts + activity - 1], activity)
    day = joined_day[user_idx] + cum / totals * span[user_idx]
    timestamp = YEAR_START + (day * DAY).astype(np.int64)
    released = items["released"].to_numpy()[item_idx]
    late = timestamp < released
    timestamp[late] = released[late] + rng.integers(1, 14, late.sum()) * DAY

    # rating: how high the item sits in the user's own affinity ranking
    pct = (np.argsort(np.argsort(affinity, axis=1), axis=1) / (len(items) - 1))[
        user_idx, item_idx
    ]
    noise = rng.normal(0, 0.6, size=user_idx.size)
    user_bias = rng.normal(0, 0.4, size=n_users)[user_idx]
    rating = np.clip(np.round(1.0 + 4.0 * pct**3 + user_bias + noise), 1, 5)

    interactions = pd.DataFrame(
        {
            USER: (user_idx + 1).astype(np.int64),
            ITEM: items[ITEM].to_numpy()[item_idx],
            RATING: rating.astype(np.float64),
            TIMESTAMP: timestamp,
        }
    ).sort_values([TIMESTAMP, USER], kind="stable", ignore_index=True)
    users = pd.DataFrame(
        {
            USER: np.arange(1, n_users + 1, dtype=np.int64),
            "joined": YEAR_START + joined_day.astype(np.int64) * DAY,
        }
    )
    return ShopFrames(interactions, items, users, affinity)
