"""What a channel may send to: an apprise URL (slack://, discord://, tgram://, matrix://,
mailto://, json://, ntfy://, … — apprise's own clients, not one written here per
service) or a plain webhook URL (https://, and http:// where private targets are
allowed: a receiver on the lab's own network).

The rules, checked when a channel is added:
- apprise must know the URL, and the service must be one apprise reaches over HTTP (its
  requests-based services: the send-time address check covers every connection they
  make) or mail (mailto://, mailtos://: the SMTP host is checked before each send).
  Desktop and local services (dbus://, syslog://, …) mean nothing on a server.
- a self-hosted service's host (json://HOST, ntfy://HOST, matrix://HOST, mailto's SMTP
  host) and a webhook's host must resolve to public addresses (channels.guard). The
  hosted services (slack://, discord://, tgram://) carry tokens where a host would be:
  those are never resolved (a DNS query would carry the token out); their connections are
  checked when they are made.
- no credentials in a webhook URL (put a token in its path or use the signature), at
  most MAX_URL characters, no spaces or control characters.

A target's label is what may be shown anywhere: its scheme and host, never its path,
query or user part (where the tokens are)."""

from __future__ import annotations

import functools
import sys
import warnings
from dataclasses import dataclass
from types import ModuleType
from urllib.parse import urlsplit

from paperwire.channels.guard import Resolver, TargetRefusedError, checked_addresses, resolve
from paperwire.store.channels import TargetKind

MAX_URL = 2000
MAIL_SCHEMES = frozenset({"mailto", "mailtos"})


class TargetError(ValueError):
    """A target that cannot be kept; the message names it (by label) and the rule."""


@dataclass(frozen=True)
class Target:
    """A checked target: its kind, the whole URL (a secret) and its label."""

    kind: TargetKind
    url: str
    label: str


def label_of(url: str) -> str:
    """The target without its secrets: scheme and host, for lists and logs."""
    try:
        parts = urlsplit(url)
        host = parts.hostname or ""
        scheme = parts.scheme.lower()
    except ValueError:
        return "(unreadable URL)"
    if scheme in {"http", "https"} or _self_hosted(url):
        port = f":{parts.port}" if _port(url) else ""
        return f"{scheme}://{host}{port}/…"
    return f"{scheme}://…"


def _port(url: str) -> int | None:
    try:
        return urlsplit(url).port
    except ValueError:
        return None


@functools.cache
def apprise_module() -> ModuleType:
    """apprise, with its service modules loaded (once, on first use): loading them warns
    of Python's own deprecations (imghdr), which are apprise's business, not a reader's."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        import apprise

        apprise.Apprise.instantiate("json://localhost", suppress_exceptions=True)
    return apprise


def _plugin(url: str) -> object | None:
    found: object | None = apprise_module().Apprise.instantiate(url, suppress_exceptions=True)
    return found


def _self_hosted(url: str) -> bool:
    """True when the apprise service lives at a host the URL names (it has a plain
    protocol beside its secure one: json/jsons, ntfy/ntfys, matrix/matrixs, mailto/…)."""
    scheme = url.split(":", 1)[0].lower()
    if scheme in MAIL_SCHEMES:
        return True
    plugin = _plugin(url) if "://" in url else None
    return plugin is not None and getattr(type(plugin), "protocol", None) is not None


def speaks_http(plugin: object) -> bool:
    """True for an apprise service that sends through requests (and so urllib3, where
    channels.guard checks every connection)."""
    module = sys.modules.get(type(plugin).__module__)
    return module is not None and "requests" in vars(module)


def network_host(plugin: object, url: str) -> tuple[str, int] | None:
    """The host (and port) a self-hosted apprise service connects to; None for a
    hosted service (its 'host' is a token)."""
    scheme = url.split(":", 1)[0].lower()
    if scheme in MAIL_SCHEMES:
        host = getattr(plugin, "smtp_host", None) or getattr(plugin, "host", None)
        port = getattr(plugin, "port", None) or (465 if scheme == "mailtos" else 25)
        return (str(host), int(port)) if host else None
    if getattr(type(plugin), "protocol", None) is None:
        return None
    host = getattr(plugin, "host", None)
    secure = bool(getattr(plugin, "secure", False))
    port = getattr(plugin, "port", None) or (443 if secure else 80)
    return (str(host), int(port)) if host else None


def check_target(text: str, allow_private: bool, resolver: Resolver = resolve) -> Target:
    """The target `text` names, checked (TargetError naming the rule it breaks)."""
    url = text.strip()
    if not url or len(url) > MAX_URL or any(c.isspace() or ord(c) < 32 for c in url):
        raise TargetError(
            f"the target must be one URL of at most {MAX_URL} characters, without spaces"
        )
    label = label_of(url)
    try:
        parts = urlsplit(url)
    except ValueError as exc:
        raise TargetError(f"{label}: not a URL ({exc})") from exc
    scheme = parts.scheme.lower()
    if scheme in {"http", "https"}:
        return _webhook(url, label, allow_private, resolver)
    plugin = _plugin(url)
    if plugin is None:
        raise TargetError(
            f"{label}: not a URL apprise knows. Use an apprise URL (slack://, discord://, "
            "tgram://, matrix://, mailto://, json://, ntfy://, … see "
            "https://github.com/caronc/apprise/wiki) or an https:// webhook URL"
        )
    if scheme not in MAIL_SCHEMES and not speaks_http(plugin):
        raise TargetError(
            f"{label}: apprise's {scheme}:// is a local or non-web service; channels send "
            "to web services (slack://, discord://, json://, …) and mail (mailto://)"
        )
    where = network_host(plugin, url)
    if where is not None:
        try:
            checked_addresses(where[0], where[1], allow_private, resolver)
        except TargetRefusedError as exc:
            raise TargetError(f"{label}: {exc}") from exc
    return Target("apprise", url, label)


def _webhook(url: str, label: str, allow_private: bool, resolver: Resolver) -> Target:
    parts = urlsplit(url)
    if parts.scheme.lower() == "http" and not allow_private:
        raise TargetError(
            f"{label}: a webhook must be https:// (http:// only where the operator allows "
            "private targets: allow_private_targets = true)"
        )
    if parts.username or parts.password:
        raise TargetError(
            f"{label}: no user or password in a webhook URL; put a token in its path, or "
            "check the signature (webhook-signature) on the receiving side"
        )
    if not parts.hostname:
        raise TargetError(f"{label}: a webhook URL needs a host")
    port = _port(url)
    if port is None and ":" in parts.netloc.rsplit("]", 1)[-1]:
        raise TargetError(f"{label}: the port is not a number from 1 to 65535")
    try:
        checked_addresses(
            parts.hostname,
            port or (443 if parts.scheme == "https" else 80),
            allow_private,
            resolver,
        )
    except TargetRefusedError as exc:
        raise TargetError(f"{label}: {exc}") from exc
    return Target("webhook", url, label)
