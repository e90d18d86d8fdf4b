"""What the channel tests share: a real HTTP receiver on loopback (http.server in a thread)
that records every request and answers from a script of statuses, and a store with the
sample corpus listed today for `paperwire channels` child processes."""

from __future__ import annotations

import http.server
import shutil
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from paperwire.ingest.load import load
from paperwire.store import open_store
from support import sample_papers


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """A local HTTP receiver: `statuses` answers the requests in turn (then 200);
    `hold` makes the request numbered so wait (seconds) before answering; `delay`, every
    request (a chat service's answer takes 100-500 ms)."""

    statuses: list[int] = field(default_factory=list)
    hold: dict[int, float] = field(default_factory=dict)
    delay: float = 0.0
    got: list[Received] = field(default_factory=list)
    port: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str = "/hook", host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"

    def wait_for(self, count: int, seconds: float = 20.0) -> None:
        end = time.monotonic() + seconds
        while len(self.got) < count and time.monotonic() < end:
            time.sleep(0.02)


def start_receiver(receiver: Receiver) -> http.server.ThreadingHTTPServer:
    class Handler(http.server.BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"
        # Headers and body leave in one segment, as a production server sends them: with
        # Nagle on, the body's two bytes waited for the client's delayed ACK (~40 ms a
        # request), which is what the first channel benchmark measured.
        disable_nagle_algorithm = True

        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("content-length", "0")))
            with receiver.lock:
                receiver.got.append(Received(self.path, dict(self.headers.items()), body))
                number = len(receiver.got)
                status = receiver.statuses.pop(0) if receiver.statuses else 200
            if number in receiver.hold:
                time.sleep(receiver.hold[number])
            elif receiver.delay:
                time.sleep(receiver.delay)
            self.send_response(status)
            self.send_header("Content-Length", "2")
            self.end_headers()
            self.wfile.write(b"ok")

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    receiver.port = server.server_address[1]
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server


def listed_store(path: Path, sample: Path | None = None) -> str:
    """A SQLite store holding the sample corpus (a copy of the session's `sample` file
    when given), listed today (trending has papers)."""
    url = f"sqlite:///{path}"
    if sample is not None:
        shutil.copyfile(sample, path)
    store = open_store(url)
    papers = sample_papers()
    if sample is None:
        load(store, iter(papers))
    now = datetime.now(UTC)
    store.submit_many([p.key for p in papers], now.date(), now)
    store.close()
    return url
