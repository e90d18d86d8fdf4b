"""`paperwire migrate-store`: a whole deployment moved SQLite → PostgreSQL (and back),
resumed after an interruption, verified by counts and checksums, and working on arrival."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest
from click.testing import CliRunner

from paperwire.cli import cli
from paperwire.digest.run import compose_due
from paperwire.models import SavedSearch, Subscription
from paperwire.search.lexical import LexicalIndex
from paperwire.search.vectors import from_bytes, to_bytes
from paperwire.store import open_store
from paperwire.store.transfer import TABLES, transfer
from paperwire.tokens import subscription_token
from support import fresh_postgres_url, make_site

KEY = "target-based-surrogates-for-stochastic-optimization"


@pytest.fixture
def populated(tmp_path):
    """A SQLite deployment with something in every table."""
    site = make_site(tmp_path / "source")
    store = site.store
    with site.client:
        site.sign_in("ada@example.org")
        site.client.post(f"/papers/{KEY}/vote", data={"csrf_token": site.csrf()})
        site.client.post("/submit", data={"arxiv": "2106.09685", "csrf_token": site.csrf()})
        site.client.post("/account/tokens", data={"name": "script", "csrf_token": site.csrf()})
        batch = list(store.get_papers(list(range(1, 41))).items())
        vectors = np.random.default_rng(3).normal(size=(len(batch), 384)).astype(np.float32)
        store.save_vectors(
            "minilm", [(pid, p, b) for (pid, p), b in zip(batch, to_bytes(vectors), strict=True)]
        )
        sid = store.add_subscription(
            Subscription(0, "reader@example.org", "daily", True, [SavedSearch("diffusion")], "active",
                         site.clock.now, site.clock.now),
            None,
            None,
        )  # fmt: skip
        # A digest with recommendations names a collection: collections move first.
        ada = store.get_or_create_user("ada@example.org", site.clock.now)
        profile = store.create_collection(ada.id, "Diffusion", site.clock.now, is_profile=True)
        store.add_items(ada.id, profile.id, [1, 2, 3], site.clock.now)
        store.add_subscription(
            Subscription(0, "ada@example.org", "daily", False, [], "active", site.clock.now,
                         site.clock.now, user_id=ada.id, recommended=True,
                         profile_id=profile.id),
            None,
            None,
        )  # fmt: skip
        s = site.services
        compose_due(
            store,
            s.settings,
            s.secret,
            embedder=None,
            frequency="daily",
            now=s.clock() + timedelta(hours=1),
        )
        store.delete_papers(["2106.09685"])  # a tombstone too
        now = site.clock.now
        source = store.add_source("huggingface", "huggingface", "{}", 3600, now)
        store.record_day(source.id, now.date(), 12, 12, "done", None, now)
        run = store.start_run(source.id, now)
        store.finish_run(run, "ok", None, now, now + timedelta(hours=1))
    return site, sid


def test_a_deployment_moves_to_postgresql_resumes_and_verifies(
    populated, postgres_server, tmp_path, monkeypatch
):
    site, sid = populated
    # This host's cache: where the move builds the keyword index the moved site will use.
    monkeypatch.setenv("PAPERWIRE_CACHE_DIR", str(tmp_path / "moved" / "indexes"))
    source_url = site.services.settings.database_url
    target_url = fresh_postgres_url(postgres_server)
    source, target = open_store(source_url), open_store(target_url, index_root=tmp_path / "i")

    class MoveInterruptedError(Exception):
        pass

    batches = []

    def stop_after_three(table: str, rows: int) -> None:
        batches.append(table)
        if len(batches) == 3:
            raise MoveInterruptedError

    with pytest.raises(MoveInterruptedError):
        transfer(source, target, batch=50, progress=stop_after_three)
    source.close()
    target.close()
    result = CliRunner().invoke(
        cli, ["migrate-store", "--from", source_url, "--to", target_url, "-q", "--batch-size", "50"]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == len(TABLES) and all(line.endswith("ok") for line in lines)
    assert "papers" in lines[1] and "245 →        245" in lines[1]  # 246 less the deleted one

    moved = make_site(tmp_path / "moved", database_url=target_url, now=site.clock.now)
    # The keyword index beside the new store was built by the move, not left to the server.
    assert LexicalIndex.for_store(moved.store).is_current(moved.store)
    with moved.client as client:
        entry = client.get(f"/api/v1/papers/{KEY}").json()
        assert entry["upvotes"] == 1 and entry["listed"]["day"] == "2026-11-23"
        ada = moved.store.get_or_create_user("ada@example.org", moved.clock.now)
        assert client.get(f"/users/{ada.handle}").status_code == 200
        # Links already mailed keep working: the signing key moved with the data.
        token = subscription_token(site.services.secret, sid)
        assert client.get(f"/subscriptions/{token}").status_code == 200
        [mine_sub] = moved.store.subscriptions_of("ada@example.org")
        assert mine_sub.recommended and mine_sub.profile_id is not None
        assert moved.store.get_collection(ada.id, mine_sub.profile_id).name == "Diffusion"
        assert moved.store.outbox_counts() == open_store(source_url).outbox_counts()
        assert moved.store.count_vectors("minilm") == 40
        # The vectors arrived as bytes; the target filled its pgvector column from them.
        mine = from_bytes([moved.store.get_vectors("minilm", [7])[7]])[0]
        assert moved.store.nearest("minilm", mine, 1)[0][0] == 7
        # New rows get new ids after the copied ones.
        moved.sign_in("new@example.org")
        new = moved.store.get_or_create_user("new@example.org", moved.clock.now)
        assert new.id > ada.id


def test_and_back_to_sqlite(populated, postgres_server, tmp_path, monkeypatch):
    site, _ = populated
    monkeypatch.setenv("PAPERWIRE_CACHE_DIR", str(tmp_path / "cache"))
    middle = fresh_postgres_url(postgres_server)
    back = f"sqlite:///{tmp_path / 'back.db'}"
    runner = CliRunner()
    for source, target in ((site.services.settings.database_url, middle), (middle, back)):
        result = runner.invoke(cli, ["migrate-store", "--from", source, "--to", target, "-q"])
        assert result.exit_code == 0, result.output
    original, returned = open_store(site.services.settings.database_url), open_store(back)
    from paperwire.store.transfer import table_checksum

    for table, key in TABLES:
        assert table_checksum(original, table, key) == table_checksum(returned, table, key), table


def test_a_target_at_another_schema_version_is_refused(tmp_path):
    from paperwire.store import StoreError

    source = open_store(f"sqlite:///{tmp_path / 'a.db'}")
    target = open_store(f"sqlite:///{tmp_path / 'b.db'}")
    with target.write() as conn:  # as if a newer paperwire had migrated it further
        conn.execute("INSERT INTO schema_migrations (version, name) VALUES (99, 'future')")
    with pytest.raises(StoreError, match="schema versions differ"):
        transfer(source, target)


def test_every_table_is_moved_or_left_behind_for_a_stated_reason(tmp_path):
    """A table added by a migration must be copied by migrate-store or named in NOT_MOVED
    with its reason (the source tables were once forgotten)."""
    from paperwire.store.transfer import NOT_MOVED

    store = open_store(f"sqlite:///{tmp_path / 'all.db'}", index_root=tmp_path / "i")
    with store.read() as conn:
        tables = {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    store.close()
    moved = {table for table, _ in TABLES}
    assert tables - moved - set(NOT_MOVED) == set()
    assert not moved & set(NOT_MOVED)
