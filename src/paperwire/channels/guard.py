"""No channel reaches into the instance's own network (SSRF): a target whose host is, or
resolves to, a private, loopback, link-local, shared (CGNAT), multicast, reserved or
unspecified address is refused when it is added and again when it is sent to, unless
the operator allows private targets (a lab's own receiver on its LAN).

At send time the check is made on the addresses actually connected to: inside
`guarded()`, every HTTP connection urllib3 opens in this context (apprise's services
through requests, and the plain webhooks) resolves its host here, refuses it if any
address is not public, and connects to the address that was checked — never to a second
answer of the DNS (a rebinding name that answers a public address to the check and
127.0.0.1 to the connection gets the check's answer). The policy is a context variable,
so it follows the work into apprise's worker threads (apprise submits each service with a
copy of the caller's context); outside `guarded()` urllib3 connects as it always does.

The sources need no such guard: they fetch only arXiv's and Hugging Face's own hosts
(ingest.fetch.check_arxiv_url), a fixed list; a channel's host is whatever a reader or
the operator typed, so here the rule is on the address."""

from __future__ import annotations

import ipaddress
import socket
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

import urllib3.util.connection as urllib3_connection

Resolver = Callable[[str, int], list[str]]


class TargetRefusedError(Exception):
    """A target's address is not one channels may reach (the message says which)."""


def is_public(address: str) -> bool:
    """True for a globally routable unicast address (an IPv4-mapped IPv6 address is
    judged as the IPv4 address it carries)."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return bool(
        ip.is_global
        and not ip.is_multicast
        and not ip.is_reserved
        and not ip.is_loopback
        and not ip.is_link_local
        and not ip.is_private
        and not ip.is_unspecified
    )


def resolve(host: str, port: int) -> list[str]:
    """Every address `host` resolves to (an address literal is itself)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise TargetRefusedError(f"{host}: cannot be resolved ({exc})") from exc
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def checked_addresses(
    host: str, port: int, allow_private: bool, resolver: Resolver = resolve
) -> list[str]:
    """The addresses of `host`, all public unless `allow_private`; TargetRefusedError
    naming the host and the address otherwise. An address literal is checked as itself."""
    addresses = resolver(host, port)
    if not addresses:
        raise TargetRefusedError(f"{host}: resolves to no address")
    if not allow_private:
        for address in addresses:
            if not is_public(address):
                raise TargetRefusedError(
                    f"{host} resolves to {address}, a private, loopback or link-local "
                    "address; channels reach only public hosts unless the operator sets "
                    "allow_private_targets = true (PAPERWIRE_ALLOW_PRIVATE_TARGETS=true)"
                )
    return addresses


@dataclass
class _Policy:
    allow_private: bool
    resolver: Resolver
    refused: str | None = None


_policy: ContextVar[_Policy | None] = ContextVar("paperwire_channel_guard", default=None)
_install_lock = threading.Lock()
_original: Callable[..., socket.socket] | None = None


def _guarded_connection(address: tuple[str, int], *args: Any, **kwargs: Any) -> socket.socket:
    assert _original is not None
    policy = _policy.get()
    if policy is None:
        return _original(address, *args, **kwargs)
    host, port = address
    try:
        addresses = checked_addresses(host, port, policy.allow_private, policy.resolver)
    except TargetRefusedError as exc:
        policy.refused = str(exc)
        # An OSError, so that urllib3 and requests report it as a failed connection.
        raise ConnectionRefusedError(f"refused by paperwire: {exc}") from exc
    problem: OSError | None = None
    for checked in addresses:
        try:
            return _original((checked, port), *args, **kwargs)
        except OSError as exc:
            problem = exc
    assert problem is not None
    raise problem


def _install() -> None:
    global _original
    with _install_lock:
        if _original is None:
            _original = urllib3_connection.create_connection
            urllib3_connection.create_connection = _guarded_connection


@contextmanager
def guarded(allow_private: bool, resolver: Resolver = resolve) -> Iterator[_Policy]:
    """Check every connection urllib3 opens in this context inside the block; the policy
    yielded records a refusal (`refused`), so that a caller whose library swallowed the
    connection error can still tell a refusal from a failure."""
    _install()
    policy = _Policy(allow_private, resolver)
    token = _policy.set(policy)
    try:
        yield policy
    finally:
        _policy.reset(token)
