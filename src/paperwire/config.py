"""One Settings object, built once in ``main()`` and passed down: ``PAPERWIRE_*``
environment variables, or a TOML file named by ``--config`` / ``PAPERWIRE_CONFIG``.
Nothing reads the environment at import time."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict


def default_database_url() -> str:
    """A SQLite file in the user's data directory."""
    return f"sqlite:///{Path(platformdirs.user_data_dir('paperwire')) / 'paperwire.db'}"


class Settings(BaseSettings):
    """Everything configurable about a paperwire deployment."""

    model_config = SettingsConfigDict(env_prefix="PAPERWIRE_", extra="ignore")

    database_url: str = Field(default_factory=default_database_url)
    base_url: str = "http://127.0.0.1:8000"
    environment: str = "development"
    import_batch_size: int = Field(default=2000, ge=1, le=100_000)
    # The embedding model: "minilm-onnx-int8" (ONNX Runtime, int8: 2.2x faster on a CPU,
    # retrieval quality within 1 nDCG@10 point, bench/RESULTS.md) or "minilm" (PyTorch).
    embedding_model: str = "minilm-onnx-int8"
    # Imports that leave at most this many papers to embed embed them at once; larger
    # ones leave it to `paperwire embed` (keyword search works meanwhile).
    inline_embed_limit: int = Field(default=2000, ge=0)
    cache_dir: str = Field(default_factory=lambda: platformdirs.user_cache_dir("paperwire"))


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
