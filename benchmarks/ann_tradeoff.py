"""Recall@10 against queries per second as ANN index parameters move.

For each catalogue, every index is built once and its search parameter then
moves (HNSW ``ef_search``, IVF ``nprobe``); recall@10 is measured against the
exact top-10 of the same queries, and queries/s with one query per call on
one thread (``serving.queries_per_second``), the fastest of ``--repeat`` runs.

Catalogues:

* ``shop`` (or ``--dataset``): the item vectors of ``models.ALS()`` fitted on
  the course's split, queried by the user vectors;
* ``clustered``: ``serving.clustered_vectors`` (``--n-items``, 64 numbers each,
  500 clusters), queried by vectors from the same clusters: a bigger
  catalogue shaped like learned vectors;
* ``exact`` sizes: the time per query of exact search from 10,000 items to
  ``--max-items``, against ``--budget-ms``.

Usage::

    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/ann_tradeoff.py
    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/ann_tradeoff.py --n-items 100000

Timings depend on the machine and on its load: run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import time

import numpy as np
import pandas as pd

from recsys_helpers import data, models, serving, split


def model_vectors(dataset: str, n_queries: int) -> tuple[np.ndarray, np.ndarray]:
    """ALS item vectors and the user vectors of up to ``n_queries`` users."""
    train, _ = split.by_time(data.load(dataset), test_fraction=0.2)
    users, items = serving.factors_of(models.ALS().fit(train))
    warm = np.flatnonzero(np.diff(train.to_csr().indptr) > 0)[:n_queries]
    return items, users[warm]


def sweep(items: np.ndarray, queries: np.ndarray, m: int, repeat: int) -> pd.DataFrame:
    """The trade-off table of one catalogue (HNSW and IVF, several settings)."""
    start = time.perf_counter()
    hnsw = serving.HNSWIndex(items, m=m)
    hnsw_s = time.perf_counter() - start
    nlist = max(4, int(np.sqrt(len(items))))
    start = time.perf_counter()
    ivf = serving.IVFIndex(items, nlist=nlist)
    ivf_s = time.perf_counter() - start
    print(
        f"  built HNSW (m={m}) in {hnsw_s:.1f} s, IVF (nlist={nlist}) in {ivf_s:.1f} s"
    )
    settings = {
        f"HNSW ef_search={e}": hnsw.with_ef_search(e) for e in [10, 20, 40, 80, 160]
    }
    probes = [p for p in [1, 2, 4, 8, 16, 32] if p <= nlist]
    settings |= {f"IVF nprobe={p}": ivf.with_nprobe(p) for p in probes}
    table = serving.tradeoff(serving.ExactIndex(items), settings, queries, 10, repeat)
    table["ms/query"] = 1000 / table["qps"]
    return table


def exact_sizes(max_items: int, budget_ms: float, n_queries: int = 20) -> pd.DataFrame:
    """Exact search time per query as the clustered catalogue grows."""
    pool = serving.clustered_vectors(max_items + n_queries, 64, n_clusters=500)
    items, queries = pool[:max_items], pool[max_items:]
    sizes = [
        n
        for n in [10_000, 30_000, 100_000, 300_000, 1_000_000, 3_000_000]
        if n <= max_items
    ]
    rows = {}
    for n in sizes:
        qps = serving.queries_per_second(serving.ExactIndex(items[:n]), queries, 10)
        rows[n] = {"ms/query": 1000 / qps, "within budget": 1000 / qps <= budget_ms}
    return pd.DataFrame.from_dict(rows, orient="index").rename_axis("items")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="shop")
    parser.add_argument("--n-items", type=int, default=50_000)
    parser.add_argument("--n-queries", type=int, default=500)
    parser.add_argument("--max-items", type=int, default=1_000_000)
    parser.add_argument("--budget-ms", type=float, default=5.0)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    pd.set_option("display.width", 120)

    items, queries = model_vectors(args.dataset, args.n_queries)
    print(f"== {args.dataset}: ALS item vectors {items.shape}, {len(queries)} users")
    print(sweep(items, queries, m=8, repeat=args.repeat).round(3).to_string())

    pool = serving.clustered_vectors(args.n_items + args.n_queries, 64, n_clusters=500)
    items, queries = pool[: args.n_items], pool[args.n_items :]
    print(f"\n== clustered: {args.n_items:,} vectors, d=64, {args.n_queries} queries")
    print(sweep(items, queries, m=16, repeat=args.repeat).round(3).to_string())

    print(f"\n== exact search as the catalogue grows (budget {args.budget_ms:g} ms)")
    sizes = exact_sizes(args.max_items, args.budget_ms)
    print(sizes.round(3).to_string())
    over = sizes.index[~sizes["within budget"]]
    print(
        "exact search exceeds the budget from",
        f"{over[0]:,}" if len(over) else "none of these sizes",
        "items",
    )


if __name__ == "__main__":
    main()
