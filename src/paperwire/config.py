"""One Settings object, built once in ``main()`` and passed down: ``PAPERWIRE_*``
environment variables, or a TOML file named by ``--config`` / ``PAPERWIRE_CONFIG``.
Nothing reads the environment at import time."""

from __future__ import annotations

import os
import tomllib
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    """A SQLite file in the user's data directory."""
    return f"sqlite:///{Path(platformdirs.user_data_dir('paperwire')) / 'paperwire.db'}"


# The whole resolved configuration, as `paperwire serve` hands it to its workers.
SETTINGS_VARIABLE = "PAPERWIRE_SETTINGS_JSON"

# Where keyword search is answered: a tantivy index beside the store, or the database.
KeywordPlacement = Literal["beside", "database"]


# An upstream base URL: http(s), a host (and port), a path; no credentials, query or spaces.
_UPSTREAM_URL = r"^https?://[A-Za-z0-9.\-\[\]:]+(?::\d{1,5})?(?:/[^\s?#@]*)?$"


class Settings(BaseSettings):
    """Everything configurable about a paperwire deployment."""

    model_config = SettingsConfigDict(env_prefix="PAPERWIRE_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    base_url: str = "http://127.0.0.1:8000"
    environment: str = "development"
    import_batch_size: int = Field(default=2000, ge=1, le=100_000)
    # The embedding model (search/embed.py): "minilm-onnx-int8-128" (ONNX Runtime, int8, cut
    # at 128 word pieces: bench/RESULTS.md §23), "minilm-onnx-int8" (the same graph at 256
    # word pieces, the default before §23) or "minilm" (PyTorch). A change of model is
    # picked up in place: search keeps the old model's vectors until the new model's cover
    # the store (deployment/parts.py, meaning_model).
    embedding_model: str = "minilm-onnx-int8-128"
    # `paperwire serve` embeds new papers in the background (imports never wait for it:
    # keyword search and the pages have them at once); off, `paperwire embed` does it.
    embed_in_background: bool = True
    # The most plain bytes one input may hold once decompressed (gzip, bzip2, xz, zip are
    # unpacked as read): `paperwire import` (the whole arXiv snapshot, ~4.5 GB, fits) and
    # files sent through the web site (submissions, library imports), which are refused
    # with a message naming the limit and this setting. Past 16 MiB of plain bytes, an
    # input that unpacks at more than import_max_ratio to one is refused as a compression
    # bomb (real text compresses 3-10:1; a 765-byte bzip2 file held 1 GB).
    import_max_bytes: int = Field(default=16 * 1024**3, ge=1024)
    upload_max_bytes: int = Field(default=32 * 1024**2, ge=1024)
    import_max_ratio: int = Field(default=1000, ge=10)
    # Imports of files larger than this index them in a second process while parsing.
    background_index_bytes: int = Field(default=32 * 1024 * 1024, ge=0)
    # Keyword search: "beside" (a tantivy index in cache_dir that follows the store's
    # changes; the fast one, bench/RESULTS.md §8) or "database" (PostgreSQL's tsvector + GIN:
    # no local files, slower on common words).
    keyword_index: KeywordPlacement = "beside"
    cache_dir: str = Field(default_factory=lambda: platformdirs.user_cache_dir("paperwire"))

    # The web site. Signing key for sessions, CSRF and email links: when unset, a random
    # key is made once and kept in the store, so every worker of one deployment shares it.
    secret_key: str | None = Field(default=None, min_length=32)
    # Seconds an anonymous page (daily, trending, a paper) may be served from memory.
    page_cache_seconds: float = Field(default=5.0, ge=0)
    # Bytes of pages that cache holds at most (least recently used out first).
    page_cache_bytes: int = Field(default=64 * 1024 * 1024, ge=0)
    # Reverse proxies whose X-Forwarded-For / X-Forwarded-Proto `serve` believes, comma-
    # separated addresses or networks ("127.0.0.1", "10.0.0.0/8"); none by default, so no
    # client can pose as another (per-client limits count the address that connected).
    trusted_proxies: str = ""

    # Mail (sign-in links, digests). Without an SMTP host, messages are written as .eml
    # files to mail_dir and their links logged: enough for one person on a laptop.
    smtp_host: str | None = None
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_starttls: bool = True
    smtp_ssl: bool = False
    smtp_user: str | None = None
    smtp_password: str | None = None
    smtp_timeout: float = Field(default=30.0, gt=0)
    mail_from: str = "paperwire <paperwire@localhost>"
    mail_dir: str = Field(
        default_factory=lambda: str(Path(platformdirs.user_data_dir("paperwire")) / "mail")
    )

    # Digests. A mailto: address for List-Unsubscribe beside the https link (optional);
    # DKIM signing when a private key file is given.
    mail_unsubscribe_mailto: str | None = None
    dkim_key_file: str | None = None
    dkim_selector: str = "paperwire"
    dkim_domain: str | None = None
    digest_trending_count: int = Field(default=10, ge=1, le=100)
    # Run digests from inside `paperwire serve` (daily runs from this UTC hour on; weekly
    # ones in the first run of each ISO week), so one command runs the whole service.
    # A sender's hold on the messages it took; a killed sender's are taken over after it.
    outbox_lease_seconds: float = Field(default=600.0, gt=0)
    digest_schedule: bool = False
    digest_hour: int = Field(default=7, ge=0, le=23)

    # Channels (paperwire.channels): chat and webhook targets that get the papers of each
    # period. Targets on private, loopback and link-local addresses are refused unless
    # this is on (a lab's own receiver on its LAN); a webhook may then be http://.
    allow_private_targets: bool = False
    # Papers one message lists; the rest as "and N more: <link>".
    channel_max_papers: int = Field(default=10, ge=1, le=50)
    # Attempts before a message is dead-lettered; the first retry waits this many
    # seconds, each next one four times longer (at most six hours).
    channel_attempts: int = Field(default=6, ge=1, le=20)
    channel_retry_seconds: float = Field(default=60.0, ge=0)
    channel_timeout_seconds: float = Field(default=10.0, gt=0, le=120)
    # Messages one run sends at the same time (each to its own target): a chat service
    # answers in 100-500 ms, so one at a time would take an hour for 10,000 channels.
    channel_concurrency: int = Field(default=8, ge=1, le=64)
    # Channels a reader may add on /account (the operator's own, from the CLI, are not capped).
    channels_per_reader: int = Field(default=5, ge=0, le=100)
    # Run the channels inside `serve` and `worker` (daily ones from digest_hour on, weekly
    # ones in the first run of each ISO week; retries whenever they are due).
    channels_schedule: bool = True

    # Sources (paperwire.sources): run on their schedule inside `paperwire serve` and
    # `paperwire worker`, one runner at a time by a lease in the database. Sources can be
    # listed here ([[paperwire.sources]] tables: name, kind, categories, rule, query,
    # start, backfill_days, interval_seconds) as well as added by `paperwire sources add`.
    sources_schedule: bool = True
    sources_lease_seconds: float = Field(default=900.0, gt=0)
    sources: list[dict[str, Any]] = Field(default_factory=list)
    # Where the sources read (a mirror, a recorded server): configuration, not input, so
    # each source's host allow-list follows them (ingest.fetch.Upstreams). http(s) only,
    # no credentials.
    hf_base_url: str = Field(default="https://huggingface.co", pattern=_UPSTREAM_URL)
    arxiv_api_url: str = Field(default="https://export.arxiv.org/api/query", pattern=_UPSTREAM_URL)
    arxiv_oai_url: str = Field(default="https://oaipmh.arxiv.org/oai", pattern=_UPSTREAM_URL)
    # /readyz answers 503 when the keyword index is more papers than this behind.
    ready_max_index_lag: int = Field(default=0, ge=0)
    # /metrics answers only `Authorization: Bearer <this>` (Prometheus' bearer_token);
    # unset, /metrics is not served (404).
    metrics_token: str | None = Field(default=None, min_length=16)
    # Log lines as JSON objects (one per line) for log collectors.
    json_logs: bool = False

    @model_validator(mode="after")
    def _no_placeholder_secrets(self) -> Settings:
        """Outside development, refuse a secret anyone could guess."""
        if self.environment != "development" and self.secret_key is not None:
            lowered = self.secret_key.lower()
            if any(word in lowered for word in ("changeme", "change-me", "secret", "example")):
                raise ValueError("PAPERWIRE_SECRET_KEY is a placeholder; set a random one")
        return self

    def to_environment(self) -> dict[str, str]:
        """These settings as one environment variable, for worker processes: every value
        resolved here (file, environment, command line) reaches them unchanged."""
        return {SETTINGS_VARIABLE: self.model_dump_json()}

    @property
    def https(self) -> bool:
        """True when the site is served over HTTPS (cookies are then marked Secure)."""
        return self.base_url.lower().startswith("https://")


def load_settings(config_file: str | None = None, **overrides: Any) -> Settings:
    """Settings from a TOML file (if given), then the environment, then explicit
    overrides (command-line options), later sources winning."""
    values: dict[str, Any] = {}
    if config_file:
        path = Path(config_file)
        try:
            values.update(tomllib.loads(path.read_text("utf-8")).get("paperwire", {}))
        except (OSError, tomllib.TOMLDecodeError) as exc:
            raise ValueError(f"{path}: cannot read the configuration: {exc}") from exc
    # Environment variables beat the file: only file keys the environment left unset apply.
    from_environment = Settings().model_fields_set
    merged = {k: v for k, v in values.items() if k not in from_environment}
    merged.update({k: v for k, v in overrides.items() if v is not None})
    return Settings(**merged)


def handed_settings() -> Settings | None:
    """The settings `paperwire serve` handed to this worker process, if it is one."""
    handed = os.environ.get(SETTINGS_VARIABLE)
    return Settings.model_validate_json(handed) if handed else None


def redacted_url(url: str) -> str:
    """A database URL without its password (for output and logs)."""
    if "@" in url and "://" in url:
        scheme, rest = url.split("://", 1)
        credentials, host = rest.rsplit("@", 1)
        user = credentials.split(":", 1)[0]
        return f"{scheme}://{user}:***@{host}"
    return url
