"""The routes, a module per resource: the feed, papers (and search, submitting, voting),
accounts (signing in, tokens, readers' pages), digest subscriptions, the JSON API and the
Atom feeds, and health (/healthz, /readyz, /metrics, /status). Each parses its request,
calls web.usecases and renders."""

from __future__ import annotations

from fastapi import APIRouter

from paperwire.web.routes import (
    account,
    api,
    collections,
    collections_api,
    comments,
    comments_api,
    docs,
    feed,
    feeds,
    health,
    papers,
    people,
    people_api,
    subscriptions,
)

ROUTERS: tuple[APIRouter, ...] = (
    health.router,
    # Before api and papers: their /papers/{key:path} would take .../comments.
    comments_api.router,
    comments.router,
    collections_api.router,
    collections.router,
    api.router,
    people_api.router,
    feeds.router,
    subscriptions.router,
    feed.router,
    # Before papers: its /papers/{key:path} would take .../claim.
    people.router,
    papers.router,
    account.router,
    docs.router,
)
