"""The web site, the JSON API and the Atom feeds: ``create_app(settings, store)``."""

from paperwire.web.app import create_app

__all__ = ["create_app"]
