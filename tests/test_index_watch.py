"""Index folders deleted under a running server: rebuilt, and keywords answer meanwhile."""

from __future__ import annotations

from pathlib import Path

# -- index folders deleted under a running server ----------------------------------------------------


def test_deleted_index_folders_are_rebuilt_and_keywords_answer_meanwhile(tmp_path: Path) -> None:
    """Delete the keyword and vector index folders under the running app: every search
    mode still answers (hybrid and meaning ones with keyword results while the vector
    index is rebuilt), both folders come back, and a paper added afterwards is found."""
    import shutil

    from conftest import make_site
    from paperwire.ingest.load import load
    from paperwire.models import Paper
    from paperwire.search.embed import make_embedder
    from paperwire.search.hybrid import SearchEngine, embed_pending
    from paperwire.search.lexical import LexicalIndex
    from paperwire.search.vectors import VectorIndex

    holder: dict[str, SearchEngine] = {}
    site = make_site(tmp_path, engine_factory=lambda: holder["engine"], embedding_model="minilm")
    embedder = make_embedder("minilm", tmp_path / "models")
    engine = SearchEngine(
        site.store,
        LexicalIndex.for_store(site.store),
        VectorIndex.for_store(site.store, embedder.name),
        embedder,
    )
    holder["engine"] = engine
    embed_pending(site.store, embedder)
    with site.client:
        for mode in ("lexical", "semantic", "hybrid"):
            assert site.client.get(f"/api/v1/search?q=diffusion&mode={mode}").status_code == 200
        folders = [engine.lexical.path, engine.vectors.path]
        for folder in folders:
            shutil.rmtree(folder)
        for mode in ("hybrid", "semantic", "lexical"):
            response = site.client.get(f"/api/v1/search?q=diffusion&mode={mode}")
            assert response.status_code == 200, response.text
            assert response.json()["data"], mode
        site.services.indexes.join(120)
        assert all(folder.exists() for folder in folders)
        assert engine.vectors is not None and engine.vectors.has_any()
        load(site.store, [Paper("Quokka diffusion", "A quokka abstract.", "2411.77777")])
        response = site.client.get("/api/v1/search?q=quokka&mode=lexical")
        assert [hit["paper"]["title"] for hit in response.json()["data"]] == ["Quokka diffusion"]
        assert site.client.get("/api/v1/search?q=diffusion&mode=hybrid").status_code == 200
