"""Channel secrets at rest: a target URL carries its service's tokens (a Slack webhook
path, a Telegram bot token) and a webhook's whsec_ key signs every message, so both are
stored encrypted (Fernet: AES-128-CBC with HMAC-SHA256, from `cryptography`) under a key
derived from the instance key — the configured PAPERWIRE_SECRET_KEY, else the key the
store made when it was created (tokens.signing_key) — by HKDF-SHA256 with a label of
its own, so the key that signs links never encrypts anything itself. A copy of the
database alone (a backup, a dump) does not reveal them when the key is configured."""

from __future__ import annotations

import base64
import secrets

from cryptography.fernet import Fernet, InvalidToken
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_INFO = b"paperwire channel secrets v1"
WEBHOOK_SECRET_PREFIX = "whsec_"


class SealError(Exception):
    """A sealed value that this instance key cannot open."""


class Sealer:
    """Encrypts and decrypts channel secrets under the instance key."""

    def __init__(self, instance_key: str) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            instance_key.encode("utf-8")
        )
        self._fernet = Fernet(base64.urlsafe_b64encode(key))

    def seal(self, text: str) -> str:
        """`text` encrypted (ASCII, safe to store)."""
        return self._fernet.encrypt(text.encode("utf-8")).decode("ascii")

    def open(self, sealed: str) -> str:
        """The text a sealed value holds; SealError when this key did not seal it (the
        instance key changed since: set PAPERWIRE_SECRET_KEY back, or add the channel
        again)."""
        try:
            return self._fernet.decrypt(sealed.encode("ascii")).decode("utf-8")
        except (InvalidToken, ValueError) as exc:
            raise SealError(
                "a channel secret cannot be decrypted with this instance's key "
                "(PAPERWIRE_SECRET_KEY changed?); remove the channel and add it again"
            ) from exc


def new_webhook_secret() -> str:
    """A fresh Standard Webhooks signing secret: 'whsec_' and 32 random bytes in base64."""
    return WEBHOOK_SECRET_PREFIX + base64.b64encode(secrets.token_bytes(32)).decode("ascii")
