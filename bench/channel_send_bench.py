"""The time one channel message takes to send through apprise, to a json:// target on a
loopback receiver that answers at once (so what is left is the sender's own work): the
median per message of `--runs` runs of `--sends` messages, each run a new Sender (what
`paperwire channels run` makes). Run it with the sources to compare first on the path:

    PYTHONPATH=<before>/src python bench/channel_send_bench.py --label before
    PYTHONPATH=src python bench/channel_send_bench.py --label after
"""

from __future__ import annotations

import argparse
import http.server
import statistics
import threading
import time
from datetime import UTC, datetime

from paperwire.channels.messages import Message
from paperwire.channels.sealing import Sealer
from paperwire.channels.send import Sender
from paperwire.channels.targets import apprise_module
from paperwire.config import Settings
from paperwire.store.channels import Channel


class _Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("content-length", "0")))
        self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def log_message(self, *args: object) -> None:
        pass


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--label", default="this tree")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--sends", type=int, default=100)
    args = parser.parse_args()
    apprise_module()  # loaded once, before anything is timed
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sealer = Sealer("bench instance key")
    channel = Channel(
        id=1, name="bench", owner_id=None, frequency="daily", selection="trending",
        query=None, collection_id=None, reader_id=None, target_kind="apprise",
        target_label="json://127.0.0.1/…",
        target_sealed=sealer.seal(f"json://127.0.0.1:{server.server_address[1]}/hook"),
        secret_sealed=None, status="active", created_at=datetime.now(UTC), last_period=None,
        covered_until=None,
    )  # fmt: skip
    message = Message("Papers of the day", "**Today** " * 50, {})
    per_send = []
    for _ in range(args.runs):
        sender = Sender(Settings(allow_private_targets=True), sealer)
        start = time.perf_counter()
        for _ in range(args.sends):
            if not sender.send(channel, "msg_bench", message).delivered:
                raise SystemExit("the loopback receiver did not take a message")
        per_send.append((time.perf_counter() - start) / args.sends * 1000)
        sender.close()
    server.shutdown()
    runs = ", ".join(f"{ms:.2f}" for ms in per_send)
    print(f"{args.label}: {statistics.median(per_send):.2f} ms a message (runs: {runs})")


if __name__ == "__main__":
    main()
