"""The entry point of each web worker process (``uvicorn --factory
paperwire.asgi:worker_app``, as `paperwire serve` starts them): the settings `serve`
handed over — else the environment and its configuration file — and the app over them."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from paperwire.config import handed_settings, load_settings
from paperwire.store import open_store
from paperwire.web.app import create_app


def worker_app() -> Any:
    """The whole web service for one worker process."""
    settings = handed_settings() or load_settings(os.environ.get("PAPERWIRE_CONFIG"))
    store = open_store(settings.database_url, index_root=Path(settings.cache_dir))
    return create_app(settings, store)
