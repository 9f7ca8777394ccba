"""p50/p99 latency of the recommendation service on 127.0.0.1.

Fits ``models.ALS()`` on the course's split, serves it with
``serving.make_app`` under uvicorn (``serving.run_server``: loopback, a free
port, a background thread, always stopped) and sends a bounded loop of
sequential GET requests from one client (``serving.measure_latency``),
cycling over the first users. The same for the model behind an HNSW index
(``serving.Retriever``) and for ``/health`` (the HTTP cost alone).

Usage::

    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/serving_latency.py
    RECSYS_PROGRESS=0 .venv/bin/python benchmarks/serving_latency.py --requests 2000

Timings depend on the machine and on its load: run it on a quiet machine.
"""

from __future__ import annotations

import argparse

import numpy as np
import pandas as pd

from recsys_helpers import data, models, serving, split


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", default="shop")
    parser.add_argument("--requests", type=int, default=1000)
    parser.add_argument("--users", type=int, default=100)
    parser.add_argument(
        "--threads", type=int, default=1, help="BLAS threads while serving; 0: leave"
    )
    args = parser.parse_args()
    if not 1 <= args.requests <= 100_000:
        parser.error("--requests must be between 1 and 100000 (a bounded loop).")

    train, _ = split.by_time(data.load(args.dataset), test_fraction=0.2)
    warm = np.flatnonzero(np.diff(train.to_csr().indptr) > 0)[: args.users]
    paths = [f"/recommend/{user}" for user in train.user_ids[warm]]
    served = {
        "ALS (exact numpy search)": models.ALS().fit(train),
        "ALS + HNSW (ef_search=64)": serving.Retriever(models.ALS(), "hnsw").fit(train),
        "Popularity": models.Popularity().fit(train),
    }
    rows = {}
    for label, model in served.items():
        app = serving.make_app(model, train, version=label)
        threads = args.threads or None
        with serving.run_server(app, threads=threads) as base_url:
            rows[label] = serving.measure_latency(base_url, paths, args.requests)
            if label == "Popularity":
                rows["/health (HTTP only)"] = serving.measure_latency(
                    base_url, ["/health"], args.requests
                )
    print(
        f"== {args.dataset}: {train.n_items:,} items, {args.requests} sequential "
        f"requests per row over {len(paths)} users, one client, 127.0.0.1, "
        f"BLAS threads while serving: {args.threads or 'not limited'}"
    )
    print(pd.DataFrame(rows).T.round(2).to_string())


if __name__ == "__main__":
    main()
