"""Channels: the papers of each period delivered where people read — chat services through
apprise URLs, and plain webhooks signed by the Standard Webhooks spec — through the same
outbox as the digests (exactly once per channel and period, retried with backoff, dead
letters kept), with targets checked against the instance's own network (guard.py) and
their secrets encrypted at rest (sealing.py)."""
