"""A real SMTP server for the tests (aiosmtpd on a loopback port) that keeps what it
accepts and can be told to fail: a 4xx or 5xx reply, or a connection dropped in the
middle of a message."""

from __future__ import annotations

import email
import email.message
import email.policy
import socket
import time
from collections.abc import Callable

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class Inbox:
    """The aiosmtpd handler. `fault(recipient, n)` may return an SMTP reply to give
    instead of accepting the n-th delivery attempt overall, or "drop" to cut the
    connection; messages count as received only when accepted (250)."""

    def __init__(self) -> None:
        self.messages: list[email.message.EmailMessage] = []
        self.raw: list[bytes] = []  # each accepted message's bytes, as they arrived
        self.attempts = 0
        self.fault: Callable[[str, int], str | None] = lambda _to, _n: None
        self.on_data: Callable[[int], None] = lambda _n: None

    async def handle_DATA(self, server, session, envelope) -> str:
        self.attempts += 1
        self.on_data(self.attempts)
        verdict = self.fault(envelope.rcpt_tos[0], self.attempts)
        if verdict == "drop":
            server.transport.close()
            return "421 closing"
        if verdict:
            return verdict
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.messages.append(message)  # type: ignore[arg-type]
        self.raw.append(envelope.content)
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list[email.message.EmailMessage]:
        return [m for m in self.messages if m["To"] == address]

    def raw_to(self, address: str) -> list[bytes]:
        """The bytes of each message to `address`, as the server received them."""
        return [r for m, r in zip(self.messages, self.raw, strict=True) if m["To"] == address]

    def wait_for(self, address: str, count: int, timeout: float = 20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            mine = self.to(address)
            if len(mine) >= count:
                return mine[-1]
            time.sleep(0.05)
        raise AssertionError(f"no mail for {address}")


class SMTPServer:
    """aiosmtpd started on a free loopback port."""

    def __init__(self) -> None:
        self.inbox = Inbox()
        self.port = free_port()
        self.controller = Controller(self.inbox, hostname="127.0.0.1", port=self.port)

    def __enter__(self) -> SMTPServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()


def assert_plain_list_unsubscribe(raw: bytes, links: list[str]) -> None:
    """The List-Unsubscribe header of a message as sent: printable ASCII, no RFC 2047
    encoded-word, exactly these links in angle brackets, folded (if at all) only between
    them; and List-Unsubscribe-Post asks for one-click (RFC 8058)."""
    head = raw.split(b"\r\n\r\n", 1)[0].replace(b"\r\n", b"\n")
    lines = head.split(b"\n")
    start = next(i for i, line in enumerate(lines) if line.startswith(b"List-Unsubscribe: "))
    folded = [lines[start]]
    for line in lines[start + 1 :]:
        if not line.startswith((b" ", b"\t")):
            break
        folded.append(line)
    header = b"\n".join(folded)
    assert all(32 <= byte < 127 or byte == 10 for byte in header), header
    assert b"=?" not in header, header
    value = b" ".join(line.strip() for line in folded)[len(b"List-Unsubscribe:") :].strip()
    assert value.decode("ascii") == ", ".join(f"<{link}>" for link in links), header
    assert all(len(line) <= 998 for line in folded)
    assert b"\nList-Unsubscribe-Post: List-Unsubscribe=One-Click\n" in head + b"\n"
