"""Channels against a real HTTP receiver on loopback: apprise's json:// target and a plain
webhook whose Standard Webhooks signature is verified with the standardwebhooks library;
a receiver that fails first, then succeeds; dead letters; the SSRF guard when a channel is
added and again when it is sent (a name resolving to 127.0.0.1, a rebinding name); secrets
sealed at rest; exactly once per channel and period over repeated runs, two concurrent
`paperwire channels run` processes, and a sender killed (SIGKILL) mid-delivery."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from standardwebhooks import Webhook

from channel_support import Receiver, listed_store, start_receiver
from paperwire.channels.guard import is_public
from paperwire.channels.manage import ChannelError, Choice
from paperwire.channels.messages import Message, escape_markdown
from paperwire.channels.sealing import Sealer
from paperwire.channels.send import Sender
from paperwire.channels.targets import TargetError, apprise_module, check_target, label_of
from paperwire.config import Settings
from paperwire.deployment import Deployment
from paperwire.ingest.hf_daily import parse
from paperwire.ingest.load import load
from paperwire.logredact import redact
from paperwire.models import Paper
from paperwire.people.follows import follows_match
from paperwire.people.names import name_key
from paperwire.search.hybrid import SearchEngine
from paperwire.search.native import keyword_index
from paperwire.store import open_store
from paperwire.store.channels import Channel
from support import ENGINES, Clock, engine_url, sample_papers

pytestmark = pytest.mark.timeout(180)


_OPEN: list[Deployment] = []


@pytest.fixture
def receiver():
    got = Receiver()
    server = start_receiver(got)
    yield got
    server.shutdown()
    server.server_close()


@pytest.fixture(autouse=True)
def _sample(sqlite_sample):
    global SAMPLE
    SAMPLE = sqlite_sample
    yield
    while _OPEN:
        _OPEN.pop().close()


SAMPLE: Path | None = None


@pytest.fixture(params=ENGINES)
def url(request, tmp_path) -> str:
    """A store holding the sample corpus listed today, on each engine (the end-to-end
    tests run on both: PostgreSQL claims the outbox with SKIP LOCKED)."""
    if request.param == "sqlite":
        return listed(tmp_path / "site.db")
    found = engine_url(request, tmp_path, sample=True)
    store = open_store(found)
    now = datetime.now(UTC)
    store.submit_many([p.key for p in sample_papers()], now.date(), now)
    store.close()
    return found


def listed(path: Path) -> str:
    return listed_store(path, SAMPLE)


def deployment(tmp_path: Path, url: str | None = None, **overrides) -> Deployment:
    url = url or listed(tmp_path / "site.db")
    values = {
        "database_url": url,
        "base_url": "https://papers.example.org",
        "cache_dir": str(tmp_path / "cache"),
        "allow_private_targets": True,
        "channel_retry_seconds": 60.0,
    }
    settings = Settings(**{**values, **overrides})
    store = open_store(url, index_root=tmp_path / "indexes")
    made = Deployment(
        settings, store=store, clock=Clock(datetime.now(UTC)),
        engine_factory=lambda: SearchEngine(store, keyword_index(store, "beside")),
    )  # fmt: skip
    _OPEN.append(made)
    return made


def later(site: Deployment, seconds: float) -> None:
    site.clock.now += timedelta(seconds=seconds)  # type: ignore[attr-defined]


# -- delivery ---------------------------------------------------------------------------


def test_a_signed_webhook_is_delivered_once_and_verifies(tmp_path, receiver, url):
    site = deployment(tmp_path, url=url)
    _, secret = site.add_channel("lab", receiver.url("/hook/t0k3n"), "daily", Choice("trending"))
    assert secret is not None and secret.startswith("whsec_")
    run = site.run_channels()
    assert run.sent.sent == 1 and len(receiver.got) == 1
    got = receiver.got[0]
    payload = Webhook(secret).verify(got.body, got.headers)  # raises when it does not verify
    assert got.path == "/hook/t0k3n"
    assert payload["channel"] == "lab" and payload["period"].startswith("daily:")
    paper = payload["papers"][0]
    assert set(paper) == {"key", "arxiv_id", "title", "authors", "url", "upvotes", "summary"}
    assert paper["url"].startswith("https://papers.example.org/papers/")
    assert len(payload["papers"]) == 10 and payload["more"] > 0
    assert payload["more_url"] == "https://papers.example.org/trending"
    # Another secret does not verify it.
    with pytest.raises(Exception, match="signature"):
        Webhook("whsec_" + "A" * 43 + "=").verify(got.body, got.headers)
    # Due at once, then not again this period: a second run sends nothing.
    again = site.run_channels()
    assert again.composed[0].due == 0 and again.sent.sent == 0 and len(receiver.got) == 1
    [status] = site.channels()
    assert status.deliveries.sent == 1 and status.deliveries.dead == 0


def test_apprise_json_target_gets_markdown_lines_with_upvotes(tmp_path, receiver, url):
    site = deployment(tmp_path, url=url, channel_max_papers=3)
    site.add_channel(
        "json", f"json://127.0.0.1:{receiver.port}/apprise", "daily", Choice("trending")
    )
    assert site.run_channels().sent.sent == 1
    body = json.loads(receiver.got[0].body)
    assert body["title"].startswith("Trending papers · ")
    lines = body["message"].splitlines()
    assert len(lines) == 4  # three papers, then "and N more"
    assert all(
        line.startswith("- [") and "](https://papers.example.org/papers/" in line and " ▲ " in line
        for line in lines[:3]
    )
    assert lines[3].startswith("and ") and lines[3].endswith(
        " more: https://papers.example.org/trending"
    )


def test_a_receiver_that_fails_first_then_succeeds(tmp_path, receiver, url):
    receiver.statuses = [503]
    site = deployment(tmp_path, url=url)
    _, secret = site.add_channel("lab", receiver.url(), "daily", Choice("trending"))
    first = site.run_channels()
    assert (first.sent.sent, first.sent.retried) == (0, 1)
    assert site.run_channels().sent.sent == 0  # not due before the backoff
    later(site, 61)
    assert site.run_channels().sent.sent == 1
    a, b = receiver.got
    assert a.headers["webhook-id"] == b.headers["webhook-id"]  # the receiver can drop a repeat
    Webhook(secret).verify(b.body, b.headers)
    [status] = site.channels()
    assert status.deliveries.sent == 1 and status.deliveries.queued == 0


def test_dead_letter_after_the_last_attempt(tmp_path, receiver, url):
    receiver.statuses = [500] * 10
    site = deployment(tmp_path, url=url, channel_attempts=3, channel_retry_seconds=10.0)
    site.add_channel("lab", receiver.url(), "daily", Choice("trending"))
    reports = []
    for wait in (0, 11, 41):  # 10 s, then 40 s of backoff
        later(site, wait)
        reports.append(site.run_channels().sent)
    assert [(r.retried, r.dead) for r in reports] == [(1, 0), (1, 0), (0, 1)]
    assert len(receiver.got) == 3
    [status] = site.channels()
    assert status.deliveries.dead == 1 and "HTTP 500" in (status.deliveries.last_error or "")
    assert site.store.channel_outbox_counts() == {"failed": 1}
    later(site, 3600)  # (delivery only: an hour on may be the next day, with a new period)
    assert site.deliver_channels().sent == 0 and len(receiver.got) == 3  # dead stays dead


def test_channels_retry_queues_dead_letters_again(tmp_path, receiver, url):
    """`channels retry NAME` (and --all): a dead letter goes back to waiting with a
    fresh round of attempts, `channels list` says so, and the next run delivers it."""
    receiver.statuses = [500, 500, 410]
    site = deployment(tmp_path, url=url, channel_attempts=1)
    site.add_channel("lab", receiver.url("/lab"), "daily", Choice("trending"))
    site.add_channel("other", receiver.url("/other"), "daily", Choice("trending"))
    assert site.run_channels().sent.dead == 2
    site.close()

    def cli(*args: str) -> tuple[int, str, str]:
        run = _cli(url, tmp_path, "channels", *args)
        out, err = run.communicate(timeout=60)
        return run.returncode, out, err

    code, out, _ = cli("retry", "--help")
    assert code == 0 and "dead-lettered" in out and "--all" in out
    assert cli("retry")[0] == 2 and "NAME or --all" in cli("retry")[2]
    assert cli("retry", "lab", "--all")[0] == 2
    code, _, err = cli("retry", "nope")
    assert code == 2 and "no channel named 'nope'" in err
    code, out, _ = cli("retry", "lab")
    assert code == 0 and "channel lab: 1 dead-lettered message queued again" in out
    assert cli("retry", "lab")[1].startswith("channel lab: 0 dead-lettered messages")
    listing = json.loads(
        next(line for line in cli("list", "--json")[1].splitlines() if '"lab"' in line)
    )
    assert (listing["waiting"], listing["dead"]) == (1, 0)
    code, out, _ = cli("run", "-q")  # lab: 410 (refused at once, dead again)
    assert code == 1 and "dead letters 1" in out
    code, out, _ = cli("retry", "--all")
    assert code == 0 and "all channels: 2 dead-lettered messages queued again" in out
    code, out, _ = cli("run", "-q")
    assert code == 0 and "delivered 2" in out and "channel messages: sent 2" in out
    assert sorted(r.path for r in receiver.got) == ["/lab", "/lab", "/lab", "/other", "/other"]
    assert len({r.headers["webhook-id"] for r in receiver.got if r.path == "/lab"}) == 1


def test_a_refusing_receiver_is_final_at_once(tmp_path, receiver):
    receiver.statuses = [410]
    site = deployment(tmp_path)
    site.add_channel("gone", receiver.url(), "daily", Choice("trending"))
    assert site.run_channels().sent.dead == 1
    assert "HTTP 410" in (site.channels()[0].deliveries.last_error or "")


def test_mail_sender_never_takes_a_channel_message(tmp_path, receiver):
    receiver.statuses = [503]
    site = deployment(tmp_path)
    site.add_channel("lab", receiver.url(), "daily", Choice("trending"))
    site.run_channels()
    later(site, 3600)
    now = site.clock()
    assert site.store.claim_outbox(now, now + timedelta(minutes=5), 50) == []
    assert site.store.outbox_counts() == {}  # the mail outbox knows nothing of it


# -- the SSRF guard ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "target",
    [
        "https://localhost:{port}/hook",  # a name that resolves to 127.0.0.1
        "json://localhost:{port}/x",  # apprise, self-hosted
        "https://127.0.0.1:{port}/hook",
        "https://[::1]:{port}/hook",
        "https://169.254.169.254/latest/meta-data/",
        "https://10.0.0.5/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "http://93.184.216.34/hook",  # http:// only where private targets are allowed
        "mailto://user:pass@localhost?smtp=localhost",
    ],
)
def test_private_targets_are_refused_when_added(tmp_path, receiver, target):
    site = deployment(tmp_path, allow_private_targets=False)
    with pytest.raises(ChannelError, match="target") as refused:
        site.add_channel("x", target.format(port=receiver.port), "daily", Choice("trending"))
    assert "pass" not in str(refused.value)  # the message shows the label, not the secrets
    assert site.channels() == []


def test_other_bad_targets_are_refused_with_the_rule(tmp_path):
    site = deployment(tmp_path)
    for target, words in [
        ("not a url", "one URL"),
        ("nosuch://x/y", "not a URL apprise knows"),
        ("syslog://", "local or non-web service"),
        ("rsyslog://example.org", "local or non-web service"),
        ("https://user:pw@example.org/hook", "no user or password"),
    ]:
        with pytest.raises(ChannelError, match=words):
            site.add_channel("x", target, "daily", Choice("trending"))


def test_a_private_target_is_refused_again_when_sent(tmp_path, receiver):
    site = deployment(tmp_path)  # allowed when it was added ...
    site.add_channel("lab", receiver.url(host="localhost"), "daily", Choice("trending"))
    site.settings = site.settings.model_copy(update={"allow_private_targets": False})
    run = site.run_channels()  # ... not any more when it is sent
    assert run.sent.dead == 1 and receiver.got == []
    assert "resolves to 127.0.0.1" in (site.channels()[0].deliveries.last_error or "")


def test_a_rebinding_name_is_checked_on_the_address_connected_to(tmp_path, receiver):
    """A name that answers a public address when the channel is added and 127.0.0.1 when
    it is sent to is refused at the connection, and nothing reaches the receiver."""
    answers = iter([["93.184.216.34"], ["127.0.0.1"]])
    site = deployment(tmp_path, allow_private_targets=False)
    site.resolver = lambda host, port: next(answers) if host == "rebind.example" else [host]
    site.add_channel(
        "evil", f"https://rebind.example:{receiver.port}/hook", "daily", Choice("trending")
    )
    run = site.run_channels()
    assert run.sent.dead == 1 and receiver.got == []
    assert "rebind.example resolves to 127.0.0.1" in (
        site.channels()[0].deliveries.last_error or ""
    )


def test_apprise_connections_are_checked_too(tmp_path, receiver):
    site = deployment(tmp_path)
    site.add_channel("json", f"json://localhost:{receiver.port}/a", "daily", Choice("trending"))
    site.settings = site.settings.model_copy(update={"allow_private_targets": False})
    assert site.run_channels().sent.dead == 1 and receiver.got == []


@given(st.ip_addresses())
@settings(max_examples=300, deadline=None)
def test_only_global_unicast_addresses_are_public(address):
    judged = getattr(address, "ipv4_mapped", None) or address  # ::ffff:a.b.c.d is a.b.c.d
    assert is_public(str(address)) == (
        judged.is_global and not judged.is_multicast and not judged.is_private
        and not judged.is_loopback and not judged.is_link_local and not judged.is_reserved
    )  # fmt: skip
    assert not is_public("::ffff:127.0.0.1") and not is_public("::ffff:10.1.2.3")


@given(st.text(max_size=300))
@settings(max_examples=200, deadline=None)
def test_any_text_as_a_target_is_kept_or_refused_with_a_target_error(text):
    try:
        found = check_target(text, allow_private=False, resolver=lambda h, p: ["127.0.0.1"])
    except TargetError:
        return
    assert found.kind in {"apprise", "webhook"}  # a hosted service (its host is a token)


# -- secrets ------------------------------------------------------------------------------


def test_secrets_are_sealed_at_rest_and_never_in_labels_or_logs(tmp_path, receiver):
    site = deployment(tmp_path)
    target = receiver.url("/hook/SUPERSECRETTOKEN")
    channel, secret = site.add_channel("lab", target, "daily", Choice("trending"))
    slack, _ = site.add_channel(
        "slack", "slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ", "daily", Choice("trending")
    )
    raw = (
        Path(tmp_path / "site.db").read_bytes()
        + Path(str(tmp_path / "site.db") + "-wal").read_bytes()
    )
    for plain in (b"SUPERSECRETTOKEN", secret.encode()[6:20], b"TIiajkdnlazkcOXrIdevi7FQ"):
        assert plain not in raw
    assert "SUPERSECRETTOKEN" not in channel.target_label and slack.target_label == "slack://…"
    assert site.channel_secrets("lab") == (target, secret)
    assert "whsec_[redacted]" in redact(f"secret {secret}")
    assert "TIiajk" not in redact("posting to slack://T1JJ3T3L2/A1BRTD4JD/TIiajkdnlazkcOXrIdevi7FQ")
    assert label_of("https://hooks.example.org/a/b?token=x") == "https://hooks.example.org/…"


def test_a_changed_instance_key_fails_clearly(tmp_path, receiver):
    site = deployment(tmp_path)
    site.add_channel("lab", receiver.url(), "daily", Choice("trending"))
    other = deployment(tmp_path, url=site.settings.database_url, secret_key="k" * 40)
    assert other.run_channels().sent.dead == 1
    assert "PAPERWIRE_SECRET_KEY changed" in (other.channels()[0].deliveries.last_error or "")


# -- what a channel gets -----------------------------------------------------------------


def test_a_collection_channel_gets_what_was_saved_in_the_period(tmp_path, receiver, url):
    site = deployment(tmp_path, url=url)
    reader = site.store.get_or_create_user("reader@example.org", site.clock())
    [reading] = site.store.collections_of(reader.id, site.clock())
    site.add_channel(
        "reading", receiver.url(), "daily", Choice("collection", collection_id=reading.id)
    )
    assert site.run_channels().sent.sent == 0  # nothing saved yet: nothing sent
    keys = [e.paper.key for e in site.store.listed_since(site.clock() - timedelta(days=2))[:2]]
    ids = list(site.store.paper_ids(keys).values())
    site.store.add_items(reader.id, reading.id, ids, site.clock())
    later(site, 86400)
    assert site.run_channels().sent.sent == 1
    payload = json.loads(receiver.got[0].body)
    assert {p["key"] for p in payload["papers"]} == set(keys)
    with pytest.raises(ChannelError, match="no such collection"):
        site.add_channel("x", receiver.url(), "daily", Choice("collection", collection_id=999999))


DAY = timedelta(days=1)
RICH = Path(__file__).parent / "data" / "hf_daily_papers_rich.json"


def test_a_for_you_channel_carries_new_papers_from_what_the_reader_follows(tmp_path, receiver, url):
    """Follows feed a reader's for-you channel as they feed the digests: the period's new
    papers by a followed author, in their own section with why, over a real receiver
    (signed webhook and apprise json://)."""
    site = deployment(tmp_path, url=url)
    reader = site.store.get_or_create_user("reader@example.org", site.clock())
    load(site.store, [p for p in parse(RICH.read_bytes()) if isinstance(p, Paper)])  # new
    later(site, 60)  # the site's clock stood before the load
    new = [p for _, _, p in site.store.papers_added(site.clock() - DAY, site.clock(), 10**6)]
    author = next(p for p in new if p.authors).authors[0].name
    site.store.follow(reader.id, "author", name_key(author), author, site.clock())
    expected = {p.key for p in new if follows_match(site.store.follows(reader.id), p)}
    _, secret = site.add_channel(
        "mine", receiver.url("/fy"), "daily", Choice("trending"), for_you="reader@example.org"
    )
    site.add_channel(
        "mine-json", f"json://127.0.0.1:{receiver.port}/apprise", "daily", Choice("trending"),
        for_you="reader@example.org",
    )  # fmt: skip
    # The reader's other kinds of channel carry no follows (only --for-you does).
    words = " ".join(next(p for p in new if p.key in expected).title.split()[:2])
    site.add_channel("mine-trending", receiver.url("/tr"), "daily", Choice("trending"),
                     owner_id=reader.id)  # fmt: skip
    site.add_channel("mine-query", receiver.url("/q"), "daily", Choice("query", query=words),
                     owner_id=reader.id)  # fmt: skip
    assert site.run_channels().sent.sent == 4
    by_path = {got.path: got for got in receiver.got}
    for path in ("/tr", "/q"):
        other = json.loads(by_path[path].body)
        assert "followed" not in other and other["papers"], path
    payload = Webhook(secret).verify(by_path["/fy"].body, by_path["/fy"].headers)
    followed = payload["followed"]
    assert {p["key"] for p in followed} == expected and followed
    assert all(p["why"] == f"you follow {author}" for p in followed)
    assert not {p["key"] for p in payload["papers"]} & expected  # each paper once
    message = json.loads(by_path["/apprise"].body)["message"]
    assert "**New from what you follow**" in message
    assert f"· you follow {escape_markdown(author)}" in message
    # A reader who follows nothing gets no such section.
    site.store.unfollow(reader.id, "author", name_key(author))
    later(site, 86400)
    site.run_channels()
    assert all("followed" not in json.loads(g.body) for g in receiver.got[4:])


def test_for_you_needs_an_account_and_a_query_must_parse(tmp_path, receiver):
    site = deployment(tmp_path)
    with pytest.raises(ChannelError, match="no account"):
        site.add_channel(
            "fy", receiver.url(), "daily", Choice("trending"), for_you="nobody@example.org"
        )
    with pytest.raises(ChannelError, match="--query"):
        site.add_channel("q", receiver.url(), "daily", Choice("query", query="-only -exclusions"))
    with pytest.raises(ChannelError, match="channel name"):
        site.add_channel("bad name!", receiver.url(), "daily", Choice("trending"))


def test_markdown_in_titles_is_escaped():
    assert escape_markdown("[x](javascript:alert(1)) *b*") == r"\[x\](javascript:alert(1)) \*b\*"
    message = Message("t", "m", {"papers": []})
    assert Message.from_bytes(message.to_bytes()) == message


# -- exactly once across processes --------------------------------------------------------


def _cli(
    url: str, tmp_path: Path, *args: str, lease: str = "600", concurrency: int = 8
) -> subprocess.Popen[str]:
    env = {
        **os.environ,
        "PAPERWIRE_DATABASE_URL": url,
        "PAPERWIRE_CACHE_DIR": str(tmp_path / "cache"),
        "PAPERWIRE_ALLOW_PRIVATE_TARGETS": "true",
        "PAPERWIRE_OUTBOX_LEASE_SECONDS": lease,
        "PAPERWIRE_CHANNEL_CONCURRENCY": str(concurrency),
        "PAPERWIRE_BASE_URL": "https://papers.example.org",
    }
    return subprocess.Popen(
        [sys.executable, "-m", "paperwire.cli", *args], env=env, text=True,
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip


def test_two_concurrent_runs_deliver_each_channel_exactly_once(tmp_path, receiver, url):
    site = deployment(tmp_path, url=url)
    for n in range(40):
        site.add_channel(f"c{n}", receiver.url(f"/c{n}"), "daily", Choice("trending"))
    site.close()
    runs = [_cli(url, tmp_path, "channels", "run", "-q") for _ in range(2)]
    outputs = [run.communicate(timeout=120) for run in runs]
    assert all(run.returncode == 0 for run in runs), outputs
    assert sorted(r.path for r in receiver.got) == sorted(f"/c{n}" for n in range(40))
    assert len({r.headers["webhook-id"] for r in receiver.got}) == 40
    again = _cli(url, tmp_path, "channels", "run", "-q")
    out, err = again.communicate(timeout=120)
    assert again.returncode == 0, err
    assert "delivered 0" in out and len(receiver.got) == 40


@pytest.mark.parametrize("concurrency", [1, 4])
def test_a_sender_killed_mid_delivery_loses_nothing(tmp_path, receiver, concurrency, url):
    """Killed while a message hangs: nothing lost, and a message is sent twice only if
    it was in flight at the kill (at most `channel_concurrency` of them), with its id."""
    site = deployment(tmp_path, url=url)
    for n in range(12):
        site.add_channel(f"c{n}", receiver.url(f"/c{n}"), "daily", Choice("trending"))
    site.close()
    receiver.hold = {5: 30.0}  # the fifth message hangs: the sender is killed while it waits
    killed = _cli(url, tmp_path, "channels", "run", "-q", lease="1", concurrency=concurrency)
    receiver.wait_for(5)
    if concurrency == 1:
        assert len(receiver.got) == 5
    else:
        time.sleep(0.5)  # the other workers go on past the hanging one
    os.kill(killed.pid, signal.SIGKILL)
    killed.communicate(timeout=10)
    assert killed.returncode == -signal.SIGKILL
    time.sleep(1.5)  # the dead sender's lease runs out
    resumed = _cli(url, tmp_path, "channels", "run", "-q", lease="1")
    _, err = resumed.communicate(timeout=120)
    assert resumed.returncode == 0, err
    paths = [r.path for r in receiver.got]
    assert set(paths) == {f"/c{n}" for n in range(12)}  # nothing lost
    repeats = {p for p in paths if paths.count(p) > 1}
    assert len(repeats) <= concurrency  # only messages in flight at the kill, with their id
    for path in repeats:
        assert len({r.headers["webhook-id"] for r in receiver.got if r.path == path}) == 1
    store = open_store(url)
    try:
        assert store.channel_outbox_counts() == {"sent": 12}
    finally:
        store.close()


def test_channels_cli_add_prints_the_secret_once_and_lists_without_it(tmp_path, receiver, url):
    add = _cli(
        url,
        tmp_path,
        "channels",
        "add",
        receiver.url("/hook/TOKEN123"),
        "--name",
        "lab",
        "--weekly",
    )
    out, err = add.communicate(timeout=60)
    assert add.returncode == 0, err
    secret = out.split("signing secret (shown once; verify webhook-signature with it): ")[1].strip()
    listing = _cli(url, tmp_path, "channels", "list")
    out, _ = listing.communicate(timeout=60)
    assert (
        "lab: weekly trending → http://127.0.0.1:" in out
        and "TOKEN123" not in out
        and secret not in out
    )
    shown = _cli(url, tmp_path, "channels", "show", "lab", "--secret")
    out, _ = shown.communicate(timeout=60)
    assert secret in out and "TOKEN123" in out
    test = _cli(url, tmp_path, "channels", "test", "lab")
    out, err = test.communicate(timeout=60)
    assert test.returncode == 0 and "lab: delivered" in out, err
    Webhook(secret).verify(receiver.got[0].body, receiver.got[0].headers)
    both = _cli(
        url,
        tmp_path,
        "channels",
        "add",
        receiver.url(),
        "--name",
        "x",
        "--trending",
        "--query",
        "q",
    )
    _, err = both.communicate(timeout=60)
    assert both.returncode == 2 and "choose one of" in err
    gone = _cli(url, tmp_path, "channels", "remove", "lab")
    assert gone.communicate(timeout=60)[0].strip() == "removed channel lab"


def test_the_outbox_holds_channel_rows_exactly_once_on_each_engine(store):
    """Migration 0013 on both engines: a channel's period is recorded once, its message
    claimed by the channel sender only, and a row owned by nobody is refused."""
    from paperwire.store.channels import NewChannel

    now = datetime.now(UTC).replace(microsecond=0)
    new = NewChannel(
        "lab", None, "daily", "trending", None, None, None, "webhook", "https://x/…", "sealed", None
    )
    channel = store.add_channel(new, now)
    with pytest.raises(ValueError, match="already a channel"):
        store.add_channel(new, now)
    assert store.record_channel_periods("daily:x", now, [(channel.id, ("msg_1", b"{}"))], now) == [
        True
    ]
    assert store.record_channel_periods("daily:x", now, [(channel.id, ("msg_1", b"{}"))], now) == [
        False
    ]
    assert store.claim_outbox(now, now + timedelta(minutes=1), 10) == []
    [claimed] = store.claim_channel_messages(now, now + timedelta(minutes=1), 10)
    assert claimed.message_id == "msg_1" and claimed.attempts == 1
    store.mark_channel_sent(claimed.id, now)
    assert store.channel_outbox_counts() == {"sent": 1}
    with pytest.raises(Exception), store.write() as conn:  # noqa: B017
        conn.execute(
            "INSERT INTO outbox (period, recipient, message_id, message, next_attempt_at, "
            "created_at) VALUES ('p', 'r', 'm', ?, 'now', 'now')",
            (b"x",),
        )
    assert store.remove_channel("lab") and store.channel_outbox_counts() == {}


# -- the apprise client, built once a run -----------------------------------------------


def _apprise_channel(channel_id: int, sealed: str) -> Channel:
    return Channel(
        id=channel_id, name=f"c{channel_id}", owner_id=None, frequency="daily",
        selection="trending", query=None, collection_id=None, reader_id=None,
        target_kind="apprise", target_label="json://127.0.0.1", target_sealed=sealed,
        secret_sealed=None, status="active", created_at=datetime.now(UTC), last_period=None,
        covered_until=None,
    )  # fmt: skip


def test_an_apprise_target_is_built_once_a_run_and_used_by_one_worker_at_a_time(
    receiver, monkeypatch
):
    apprise = apprise_module()  # its service modules loaded first (one build of its own)
    built: list[str] = []
    busy: dict[int, int] = {}
    most: dict[int, int] = {}
    lock = threading.Lock()
    real_build, real_notify = apprise.Apprise.instantiate, apprise.Apprise.notify

    def counted_build(url, *args, **kwargs):  # the real build, counted
        built.append(url)
        return real_build(url, *args, **kwargs)

    def counted_notify(self, *args, **kwargs):  # the real send, its overlap per client kept
        with lock:
            busy[id(self)] = busy.get(id(self), 0) + 1
            most[id(self)] = max(most.get(id(self), 0), busy[id(self)])
        try:
            return real_notify(self, *args, **kwargs)
        finally:
            with lock:
                busy[id(self)] -= 1

    monkeypatch.setattr(apprise.Apprise, "instantiate", staticmethod(counted_build))
    monkeypatch.setattr(apprise.Apprise, "notify", counted_notify)
    sealer = Sealer("an instance key of the test")
    urls = [f"json://127.0.0.1:{receiver.port}/{name}" for name in ("one", "two")]
    one, two = (_apprise_channel(i + 1, sealer.seal(url)) for i, url in enumerate(urls))
    message = Message("Papers", "**Today**", {})
    # What one message of a run costs in builds of its URL (its label, its client).
    first = Sender(Settings(allow_private_targets=True), sealer)
    assert first.send(one, "msg_1", message).delivered
    first.close()
    per_run = len(built)
    assert per_run >= 1
    built.clear()
    most.clear()
    sender = Sender(Settings(allow_private_targets=True, channel_concurrency=4), sealer)
    receiver.delay = 0.05  # a chat service's answer takes a while
    # Eight messages of two channels, four workers: each channel's client is built once
    # and sends one message at a time.
    with ThreadPoolExecutor(4) as pool:
        outcomes = list(pool.map(lambda c: sender.send(c, f"msg_{c.id}", message), [one, two] * 4))
    sender.close()
    assert [o.delivered for o in outcomes] == [True] * 8 and len(receiver.got) == 9
    # Four messages a channel cost what one did (it was 4x before: a build a message).
    assert sorted(built) == sorted(urls * per_run)
    assert len(most) == 2 and set(most.values()) == {1}
