"""Indexes, seen-item exclusion, the HTTP service and the server helper.

Every server here listens on 127.0.0.1 only, every loop is bounded, and no
test times anything (speed is measured by ``benchmarks/ann_tradeoff.py`` and
``benchmarks/serving_latency.py``).
"""

from __future__ import annotations

import socket
import threading
import warnings
from concurrent.futures import ThreadPoolExecutor

import httpx
import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone

from recsys_helpers import data, models, serving, split
from tests.model_contract import ModelContract

with warnings.catch_warnings():  # starlette suggests httpx2; httpx is pinned
    warnings.simplefilter("ignore")
    from fastapi.testclient import TestClient


# ----------------------------------------------------------------- fixtures
@pytest.fixture(scope="module")
def shop_split():
    train, test = split.by_time(data.load("shop"), test_fraction=0.2)
    return train, test


@pytest.fixture(scope="module")
def als(shop_split):
    return models.ALS(factors=16, iterations=5).fit(shop_split[0])


@pytest.fixture(scope="module")
def client(als, shop_split):
    return TestClient(serving.make_app(als, shop_split[0], version="als-1"))


def _with_new_user(ds: data.Dataset, new_user):
    """``ds`` plus a known user with no interactions (just signed up)."""
    users = pd.concat(
        [ds.users, pd.DataFrame({"user_id": [new_user]})], ignore_index=True
    )
    return data.Dataset.from_frames(ds.interactions, ds.items, users, name="signup")


# ------------------------------------------------------------------ indexes
def test_exact_index_equals_brute_force_with_ties():
    rng = np.random.default_rng(0)
    items = rng.integers(-2, 3, size=(60, 4)).astype(np.float32)  # many ties
    queries = rng.integers(-2, 3, size=(7, 4)).astype(np.float32)
    found, scores = serving.ExactIndex(items).search(queries, 5)
    brute = queries @ items.T
    for q in range(7):
        # best score first, ties to the lower item position
        want = np.lexsort((np.arange(60), -brute[q]))[:5]
        np.testing.assert_array_equal(found[q], want)
        np.testing.assert_allclose(scores[q], brute[q, want])


def test_exact_index_k_beyond_catalogue_returns_every_item():
    found, _ = serving.ExactIndex(np.eye(3)).search(np.ones((1, 3)), 10)
    assert sorted(found[0].tolist()) == [0, 1, 2]


def test_ann_recall_on_clustered_vectors():
    vectors = serving.clustered_vectors(5_200, dim=32, n_clusters=40, seed=1)
    items, queries = vectors[:5_000], vectors[5_000:]
    exact = serving.ExactIndex(items)
    truth, _ = exact.search(queries, 10)
    hnsw = serving.HNSWIndex(items, m=16)
    ivf = serving.IVFIndex(items, nlist=50)
    low = serving.recall_vs_exact(hnsw.with_ef_search(10).search(queries, 10)[0], truth)
    high = serving.recall_vs_exact(
        hnsw.with_ef_search(200).search(queries, 10)[0], truth
    )
    assert high >= 0.95 and high >= low
    ivf_one = serving.recall_vs_exact(ivf.with_nprobe(1).search(queries, 10)[0], truth)
    ivf_all = serving.recall_vs_exact(ivf.with_nprobe(50).search(queries, 10)[0], truth)
    assert ivf_all == 1.0  # every cell scanned: exact
    assert ivf_one < ivf_all
    # the settings travel with each search: the shared graph is not mutated
    assert hnsw.ef_search == 64 and ivf.nprobe == 8


def test_ann_scores_are_inner_products():
    vectors = serving.clustered_vectors(1_000, dim=8, n_clusters=5, seed=2)
    index = serving.HNSWIndex(vectors * 3.0)  # not unit length: inner product
    items, scores = index.search(vectors[:3], 4)
    np.testing.assert_allclose(
        scores, np.einsum("qd,qkd->qk", vectors[:3], 3.0 * vectors[items]), rtol=1e-4
    )


def test_recall_vs_exact_counts_overlap_and_ignores_padding():
    exact = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 9, 9], [5, -1, -1, -1]])
    assert serving.recall_vs_exact(found, exact) == pytest.approx((2 / 4 + 1 / 4) / 2)


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda: serving.ExactIndex(np.array([[np.nan, 1.0]])), ValueError, "NaN"),
        (lambda: serving.ExactIndex(np.zeros(3)), ValueError, "2-D"),
        (
            lambda: serving.ExactIndex(np.eye(3)).search(np.ones((1, 2)), 1),
            ValueError,
            "queries have 2 numbers, the items 3",
        ),
        (lambda: serving.ExactIndex(np.eye(3)).search(np.ones(3), 0), ValueError, "k"),
        (
            lambda: serving.build_index(np.eye(3), "hnsw", {"nprobe": 2}),
            ValueError,
            "unknown parameter",
        ),
        (lambda: serving.build_index(np.eye(3), "annoy"), ValueError, "annoy"),
        (lambda: serving.IVFIndex(np.eye(3), nlist=5), ValueError, "nlist=5"),
        (lambda: serving.HNSWIndex(np.eye(3), m=1), ValueError, "m must"),
    ],
    ids=["nan", "1-d", "dim", "k=0", "wrong param", "unknown kind", "nlist", "m"],
)
def test_bad_index_input_gets_a_clear_error(call, error, message):
    with pytest.raises(error, match=message):
        call()


def test_index_copies_its_input():
    vectors = np.eye(4)
    index = serving.ExactIndex(vectors)
    vectors[0, 0] = 100.0
    assert index.search(np.ones((1, 4)), 1)[1][0, 0] == pytest.approx(1.0)


# ----------------------------------------------------- seen-item exclusion
@pytest.mark.parametrize("kind", ["exact", "hnsw", "ivf"])
def test_search_unseen_never_returns_seen_items(kind):
    items = serving.clustered_vectors(300, dim=8, n_clusters=6, seed=3)
    queries = items[:20] + 0.01
    seen = sp.random(20, 300, density=0.1, random_state=3, format="csr")
    params = {"nlist": 6, "nprobe": 6} if kind == "ivf" else {}
    index = serving.build_index(items, kind, params)
    found, scores = serving.search_unseen(index, queries, seen, 10)
    assert found.shape == (20, 10)
    for u in range(20):
        assert not set(found[u]) & set(seen[u].indices)
        assert np.all(np.diff(scores[u]) <= 1e-6)  # best first
    # exact (and these generous approximate settings) equal brute force
    brute = queries @ items.T
    brute[seen.nonzero()] = -np.inf
    want = np.argsort(-brute, axis=1, kind="stable")[:, :10]
    if kind in ("exact", "ivf"):
        np.testing.assert_array_equal(found, want)
    else:
        assert serving.recall_vs_exact(found, want) > 0.95


def test_search_unseen_pads_when_the_index_finds_too_few():
    items = serving.clustered_vectors(400, dim=8, n_clusters=40, seed=4)
    index = serving.IVFIndex(items, nlist=40, nprobe=1)  # ~10 items per cell
    seen = sp.csr_matrix((1, 400))
    found, scores = serving.search_unseen(index, items[:1], seen, 100)
    assert (found[0] == -1).any() and np.isneginf(scores[0][found[0] == -1]).all()
    kept = found[0][found[0] >= 0]
    assert kept.size == np.unique(kept).size


def test_search_unseen_checks_the_seen_matrix_shape():
    index = serving.ExactIndex(np.eye(3))
    with pytest.raises(ValueError, match="seen is"):
        serving.search_unseen(index, np.ones((2, 3)), sp.csr_matrix((1, 3)), 1)


# ---------------------------------------------------------------- Retriever
class _RetrieverContract(ModelContract):
    """The contract, with params compared by value (the inner model too)."""

    def test_fit_returns_self_and_init_only_stores_params(self, board):
        model = self.make_model()
        params = model.get_params(deep=False)
        inner = params["model"].get_params()
        assert model.fit(board[0]) is model
        again = clone(model).get_params(deep=False)
        assert again["model"].get_params() == inner  # the wrapped model unfitted
        assert {k: v for k, v in again.items() if k != "model"} == {
            k: v for k, v in params.items() if k != "model"
        }
        assert not hasattr(model.model, "train_")  # a clone is fitted, not it
        learned = [k for k in vars(model) if k not in params]
        assert learned and all(k.endswith("_") for k in learned), learned


class TestExactRetrieverContract(_RetrieverContract):
    personalised = True

    def make_model(self):
        return serving.Retriever(models.ALS(factors=4, iterations=5))


class TestHNSWRetrieverContract(_RetrieverContract):
    personalised = True

    def make_model(self):
        return serving.Retriever(
            models.ALS(factors=4, iterations=5), index="hnsw", index_params={"m": 4}
        )


def test_exact_retriever_lists_equal_the_models(shop_split, als):
    train, _ = shop_split
    retriever = serving.Retriever(models.ALS(factors=16, iterations=5)).fit(train)
    users = train.user_ids[:50]
    pd.testing.assert_frame_equal(
        retriever.recommend(users, n=10)[["user_id", "item_id", "rank"]],
        als.recommend(users, n=10)[["user_id", "item_id", "rank"]],
    )


def test_retriever_evaluates_with_the_course_protocol(shop_split):
    train, test = shop_split
    exact = serving.Retriever(models.ALS(factors=16, iterations=5))
    coarse = serving.Retriever(
        models.ALS(factors=16, iterations=5),
        index="ivf",
        index_params={"nlist": 40, "nprobe": 1},
    )
    from recsys_helpers import evaluation

    board = evaluation.compare({"exact": exact, "ivf1": coarse}, train, test)
    ndcg = board.leaderboard["ndcg@10"]
    assert ndcg["ivf1"] < ndcg["exact"]  # 1 of 40 cells loses good items


def test_retriever_rejects_cold_users():
    ds = _with_new_user(data.load("toy"), 99)
    retriever = serving.Retriever(models.ALS(factors=2, iterations=2)).fit(ds)
    with pytest.raises(ValueError, match=r"\[99\] have no training interactions"):
        retriever.recommend([99], n=2)


def test_retriever_bad_index_name_leaves_it_unfitted():
    retriever = serving.Retriever(index="annoy")
    with pytest.raises(ValueError, match="annoy"):
        retriever.fit(data.load("toy"))
    assert not hasattr(retriever, "train_")


# ------------------------------------------------------------------ the app
def test_recommend_200_answers_unseen_items_of_the_model(client, als, shop_split):
    train, _ = shop_split
    response = client.get("/recommend/1?n=5")
    assert response.status_code == 200
    body = response.json()
    assert body["user_id"] == 1 and body["model_version"] == "als-1"
    assert body["served_by"] == "ALS" and body["fallback"] is None
    assert body["items"] == als.recommend(1, n=5).item_id.tolist()
    assert len(body["scores"]) == 5 and body["scores"] == sorted(body["scores"])[::-1]
    bought = set(train.interactions.loc[train.interactions.user_id == 1, "item_id"])
    assert not bought & set(body["items"])


def test_default_n_is_10(client):
    assert len(client.get("/recommend/2").json()["items"]) == 10


def test_health(client):
    response = client.get("/health")
    assert response.status_code == 200
    assert response.json() == {
        "status": "ok",
        "model_version": "als-1",
        "model": "ALS",
        "users": 1000,
        "items": 400,
    }


def test_unknown_user_is_404(client):
    response = client.get("/recommend/123456")
    assert response.status_code == 404
    assert response.json() == {"detail": "unknown user 123456: not in this dataset."}


@pytest.mark.parametrize(
    ("query", "kind"),
    [
        ("n=0", "greater_than_equal"),
        ("n=-3", "greater_than_equal"),
        ("n=101", "less_than_equal"),
        ("n=ten", "int_parsing"),
        ("n=2.5", "int_parsing"),
        ("n=", "int_parsing"),
    ],
)
def test_bad_n_is_422_with_a_reason(client, query, kind):
    response = client.get(f"/recommend/1?{query}")
    assert response.status_code == 422
    (error,) = response.json()["detail"]
    assert error["type"] == kind and error["loc"] == ["query", "n"]


def test_n_beyond_a_small_catalogue_is_422():
    toy = data.load("toy")  # 5 items; max_n stays 100 in the route
    app = serving.make_app(models.Popularity().fit(toy), toy)
    response = TestClient(app).get("/recommend/1?n=6")
    assert response.status_code == 422
    assert response.json() == {"detail": "n must be between 1 and 5, got 6."}


def test_int_ids_from_the_path_are_converted(client):
    # the seed's bug: '1' (text) is not 1 (int); the service converts
    assert client.get("/recommend/1").json()["user_id"] == 1
    response = client.get("/recommend/one")
    assert response.status_code == 422
    assert response.json() == {
        "detail": "user ids of this dataset are integers, got 'one'."
    }


def test_str_ids_stay_str():
    interactions = pd.DataFrame(
        {"user_id": ["1", "1", "2", "u3"], "item_id": ["a", "b", "b", "c"]}
    )
    ds = data.Dataset.from_frames(interactions)
    app = serving.make_app(models.Popularity().fit(ds), ds)
    body = TestClient(app).get("/recommend/1?n=2").json()
    assert body["user_id"] == "1" and body["items"] == ["c"]  # a, b are seen
    assert TestClient(app).get("/recommend/u3?n=1").json()["user_id"] == "u3"
    assert TestClient(app).get("/recommend/3?n=1").status_code == 404


def test_a_known_user_without_history_gets_the_fallback(shop_split):
    train, _ = shop_split
    signup = _with_new_user(train, 5000)
    model = models.ALS(factors=8, iterations=3).fit(signup)
    body = TestClient(serving.make_app(model, signup)).get("/recommend/5000").json()
    assert body["served_by"] == "Popularity"
    assert body["fallback"] == "Popularity: the user has no purchase history yet"
    assert (
        body["items"]
        == models.Popularity().fit(signup).recommend(5000).item_id.tolist()
    )


def test_any_recommender_can_be_served(shop_split):
    train, _ = shop_split
    knn = models.ItemKNN().fit(train)
    body = TestClient(serving.make_app(knn, train)).get("/recommend/7?n=3").json()
    assert body["served_by"] == "ItemKNN"
    assert body["items"] == knn.recommend(7, n=3).item_id.tolist()


def test_make_app_rejects_an_unfitted_model_or_another_id_space(shop_split):
    train, _ = shop_split
    with pytest.raises(ValueError, match="not fitted"):
        serving.make_app(models.ALS(), train)
    toy = data.load("toy")
    with pytest.raises(ValueError, match="another id space"):
        serving.make_app(models.Popularity().fit(toy), train)


# ------------------------------------------------------------------ the swap
def test_a_failed_swap_keeps_the_old_model(shop_split, als):
    train, _ = shop_split
    service = serving.ModelService(als, train, "1")
    with pytest.raises(ValueError, match="not fitted"):
        service.swap(models.ALS(), train, "2")
    assert service.current.version == "1" and service.current.model is als


class _SlowPopularity(models.Popularity):
    """Popularity whose first answers take a while (a slow model load)."""

    started = threading.Event()

    def top_k_rows(self, rows, k, exclude_seen=True):
        type(self).started.set()
        threading.Event().wait(0.3)
        return super().top_k_rows(rows, k, exclude_seen)


def test_requests_during_a_slow_swap_get_the_old_model(shop_split, als):
    train, _ = shop_split
    app = serving.make_app(als, train, version="old")
    service = app.state.service
    swapper = threading.Thread(
        target=service.swap, args=(_SlowPopularity().fit(train), train, "new")
    )
    swapper.start()
    _SlowPopularity.started.wait(5)
    during = TestClient(app).get("/recommend/1").json()  # while "new" loads
    swapper.join(5)
    after = TestClient(app).get("/recommend/1").json()
    assert during["model_version"] == "old" and during["served_by"] == "ALS"
    assert after["model_version"] == "new" and after["served_by"] == "_SlowPopularity"


def test_concurrent_requests_during_swaps_see_one_whole_model(shop_split, als):
    """A bounded burst on 127.0.0.1 while two models swap back and forth."""
    train, _ = shop_split
    popularity = models.Popularity().fit(train)
    users = train.user_ids[:20].tolist()
    expected = {
        "als": {u: als.recommend(u, n=5).item_id.tolist() for u in users},
        "pop": {u: popularity.recommend(u, n=5).item_id.tolist() for u in users},
    }
    app = serving.make_app(als, train, version="als")
    stop = threading.Event()

    def swap_back_and_forth():
        for i in range(40):
            if stop.is_set():
                break
            model, version = (popularity, "pop") if i % 2 == 0 else (als, "als")
            app.state.service.swap(model, train, version)

    def fetch(base_url, batch):
        with httpx.Client(base_url=base_url, trust_env=False, timeout=10) as http:
            return [(u, http.get(f"/recommend/{u}?n=5")) for u in batch]

    with serving.run_server(app) as base_url:
        assert base_url.startswith("http://127.0.0.1:")
        swapper = threading.Thread(target=swap_back_and_forth)
        swapper.start()
        try:
            with ThreadPoolExecutor(max_workers=4) as pool:
                batches = [users * 3 for _ in range(4)]  # 4 x 60 requests
                answers = [
                    pair
                    for done in pool.map(lambda b: fetch(base_url, b), batches)
                    for pair in done
                ]
        finally:
            stop.set()
            swapper.join(10)
    assert len(answers) == 240
    versions = set()
    for user, response in answers:
        assert response.status_code == 200
        body = response.json()
        versions.add(body["model_version"])
        assert body["items"] == expected[body["model_version"]][user]
    assert versions <= {"als", "pop"}


def test_a_concurrent_burst_gets_no_error_and_no_wrong_answer(shop_split, als):
    train, _ = shop_split
    users = train.user_ids[:50].tolist()
    expected = {u: als.recommend(u, n=10).item_id.tolist() for u in users}
    app = serving.make_app(als, train)
    with (
        serving.run_server(app) as base_url,
        httpx.Client(base_url=base_url, trust_env=False, timeout=10) as http,
        ThreadPoolExecutor(max_workers=8) as pool,
    ):
        responses = list(
            pool.map(lambda u: (u, http.get(f"/recommend/{u}")), users * 4)
        )
    assert len(responses) == 200
    for user, response in responses:
        assert response.status_code == 200
        assert response.json()["items"] == expected[user]


# -------------------------------------------------------- the server helper
def _port_is_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def test_run_server_serves_then_stops_and_frees_the_port(client):
    app = client.app
    with serving.run_server(app) as base_url:
        port = int(base_url.rsplit(":", 1)[1])
        assert httpx.get(f"{base_url}/health", trust_env=False).status_code == 200
        assert not _port_is_free(port)
        threads = {t.name for t in threading.enumerate()}
        assert "uvicorn" in threads
    assert _port_is_free(port)
    assert not any(t.name == "uvicorn" for t in threading.enumerate())


def test_run_server_stops_when_the_block_fails(client):
    with (
        pytest.raises(RuntimeError, match="inside the block"),
        serving.run_server(client.app) as base_url,
    ):
        port = int(base_url.rsplit(":", 1)[1])
        raise RuntimeError("inside the block")
    assert _port_is_free(port)
    assert not any(t.name == "uvicorn" for t in threading.enumerate())


def test_run_server_refuses_to_listen_beyond_loopback(client):
    with (
        pytest.raises(ValueError, match="loopback"),
        serving.run_server(client.app, host="0.0.0.0"),
    ):
        pass


def test_run_server_on_a_taken_port_says_so(client):
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with (
            pytest.raises(RuntimeError, match="did not start"),
            serving.run_server(client.app, port=port, timeout=5),
        ):
            pass


def test_measure_latency_counts_every_request(client):
    with serving.run_server(client.app) as base_url:
        figures = serving.measure_latency(
            base_url, ["/recommend/1", "/recommend/404404"], n_requests=20, warmup=2
        )
    assert figures["requests"] == 20 and figures["errors"] == 10  # the 404s
    assert 0 < figures["p50_ms"] <= figures["p99_ms"] <= figures["max_ms"]


def test_a_prefit_retriever_uses_the_fitted_model(shop_split, als):
    train, _ = shop_split
    retriever = serving.Retriever(als, index="hnsw", prefit=True).fit(train)
    assert retriever.model_ is als
    assert retriever.index_.n_items == train.n_items
    unfitted = serving.Retriever(models.ALS(), prefit=True)
    with pytest.raises(ValueError, match="not fitted"):
        unfitted.fit(train)
    assert not hasattr(unfitted, "train_")


def test_run_server_limits_blas_threads_while_serving_only(client):
    from threadpoolctl import threadpool_info

    def blas_threads():
        return [i["num_threads"] for i in threadpool_info() if i["user_api"] == "blas"]

    before = blas_threads()
    with serving.run_server(client.app):
        assert set(blas_threads()) <= {1}
    assert blas_threads() == before
