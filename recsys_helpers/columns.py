"""Column names shared by every frame in the course, defined once.

Every DataFrame the helpers accept or return uses these names, so a lesson can
write ``df[USER]`` and never guess between ``userId``, ``user`` and ``user_id``.
"""

USER = "user_id"
ITEM = "item_id"
RATING = "rating"
TIMESTAMP = "timestamp"
SCORE = "score"
RANK = "rank"
