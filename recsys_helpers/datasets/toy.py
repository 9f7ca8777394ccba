"""The seed notebook's toy shop: 5 products and 5 users, its values unchanged.

Only the column names are the course's (``item_id``, ``title``, ``tags``,
``user_id``); there are no ratings and no timestamps, as in the seed.
"""

import pandas as pd

from recsys_helpers.columns import ITEM, USER


def toy_frames() -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Return (interactions, items, users) of the seed's toy shop."""
    items = pd.DataFrame(
        {
            ITEM: [1, 2, 3, 4, 5],
            "title": [
                "Kindle",
                "Macbook",
                "Brown Leather Shoes",
                "Samsung 75-Inch QLED TV",
                "LG 60-Inch QLED TV",
            ],
            "tags": [
                "Electronics, Tablet",
                "Electronics, Computer, Apple",
                "Clothing",
                "Electronics, Television, QLED",
                "Electronics, Television, QLED",
            ],
        }
    )
    interactions = pd.DataFrame(
        {
            USER: [1, 1, 1, 2, 2, 3, 3, 4, 4, 5],
            ITEM: [1, 2, 3, 2, 4, 1, 2, 3, 4, 5],
        }
    )
    users = pd.DataFrame({USER: [1, 2, 3, 4, 5]})
    return interactions, items, users
