"""The embedding backfill on a Dask cluster (a LocalCluster of two worker processes):
the same vectors as embedding here, written by the command, resumable."""

from __future__ import annotations

from importlib import resources

import numpy as np
import pytest
from click.testing import CliRunner

from paperwire.cli import cli
from paperwire.ingest import parse_any
from paperwire.ingest.load import load
from paperwire.search.embed import make_embedder, paper_text
from paperwire.search.vectors import from_bytes
from paperwire.store import open_store


@pytest.fixture(scope="module")
def cluster():
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None
    ) as local:
        yield local


@pytest.mark.model
def test_embed_on_a_dask_cluster_matches_embedding_here(cluster, tmp_path):
    url = f"sqlite:///{tmp_path / 'c.db'}"
    store = open_store(url)
    data = resources.files("paperwire.data").joinpath("sample.jsonl").read_bytes()
    load(store, parse_any(data, "sample", "paperwire"))
    # Some are embedded already (a backfill that was interrupted): only the rest go out.
    here = make_embedder("minilm", tmp_path / "cache")
    first = store.papers_to_embed("minilm", 0, 45)
    from paperwire.search.vectors import to_bytes

    blobs = to_bytes(here.embed([paper_text(p) for _, p in first]))
    store.save_vectors("minilm", [(pid, p, b) for (pid, p), b in zip(first, blobs, strict=True)])
    store.close()
    result = CliRunner().invoke(
        cli,
        ["--db", url, "embed", "--model", "minilm", "--dask", cluster.scheduler_address, "-q"],
        env={"PAPERWIRE_CACHE_DIR": str(tmp_path / "cache")},
    )
    assert result.exit_code == 0, result.output
    assert result.output.startswith("embedded 200 papers; 245 in the vector index")
    store = open_store(url)
    assert store.count_to_embed("minilm") == 0
    ids = list(range(46, 56))
    papers = store.get_papers(ids)
    theirs = from_bytes([store.get_vectors("minilm", ids)[i] for i in ids])
    mine = here.embed([paper_text(papers[i]) for i in ids])
    assert np.allclose(theirs, mine, atol=1e-4)
    store.close()


def test_an_unreachable_scheduler_is_a_clear_error(tmp_path):
    result = CliRunner().invoke(
        cli, ["--db", f"sqlite:///{tmp_path / 'x.db'}", "embed", "--dask", "tcp://127.0.0.1:1"]
    )
    assert result.exit_code == 3 and "cannot reach the Dask scheduler" in result.output
