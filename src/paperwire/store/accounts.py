"""The accounts tables: readers (users), sign-in links, sessions and API tokens
(migration 0003).

Every write runs in one transaction (SQLite: the one writer's ``BEGIN IMMEDIATE``; on
PostgreSQL the SQL decides what a concurrent write could change: store/postgres.py).
Times are UTC ISO strings, which sort as they compare."""

from __future__ import annotations

import secrets
from datetime import datetime

from paperwire.models import User
from paperwire.store.sqlconn import Row, Tables, iso


def _user(row: Row) -> User:
    return User(row["id"], row["email"], row["handle"], bool(row["is_curator"]))


def new_handle() -> str:
    """A random public handle for a new account. Never derived from the address: a
    handle made of the email's local part let anyone test, at /users/<handle>, whether
    an address had an account here."""
    return "reader-" + secrets.token_hex(5)


class AccountTables(Tables):
    """Part of every Store: the methods over the accounts tables."""

    def get_or_create_user(self, email: str, now: datetime) -> User:
        """The account of an address, created on first sign-in with a random free handle."""
        email = email.strip().lower()
        with self.write() as conn:
            row = conn.execute("SELECT * FROM users WHERE email = ?", (email,)).fetchone()
            if row is not None:
                return _user(row)
            handle = new_handle()
            while conn.execute("SELECT 1 FROM users WHERE handle = ?", (handle,)).fetchone():
                handle = new_handle()
            row = conn.execute(
                "INSERT INTO users (email, handle, created_at) VALUES (?, ?, ?) "
                "ON CONFLICT (email) DO NOTHING RETURNING *",
                (email, handle, iso(now)),
            ).fetchone()
            if row is None:  # a first sign-in of the same address at once made it
                row = conn.execute("SELECT * FROM users WHERE email = ?", (email,)).fetchone()
            return _user(row)

    def get_user(self, user_id: int) -> User | None:
        """An account by id."""
        with self.read() as conn:
            row = conn.execute("SELECT * FROM users WHERE id = ?", (user_id,)).fetchone()
        return _user(row) if row else None

    def get_user_by_handle(self, handle: str) -> User | None:
        """An account by its public handle."""
        with self.read() as conn:
            row = conn.execute("SELECT * FROM users WHERE handle = ?", (handle,)).fetchone()
        return _user(row) if row else None

    def set_handle(self, user_id: int, handle: str) -> User | None:
        """Give an account a new public handle; None when another account holds it (the
        check and the change in one write transaction, under a lock on the handle
        (lock_name), so of two readers asking at once one gets it, the other None)."""
        with self.write() as conn:
            self.lock_name(conn, "handle:" + handle)
            taken = conn.execute(
                "SELECT id FROM users WHERE handle = ? AND id <> ?", (handle, user_id)
            ).fetchone()
            if taken is not None:
                return None
            row = conn.execute(
                "UPDATE users SET handle = ? WHERE id = ? RETURNING *", (handle, user_id)
            ).fetchone()
        return _user(row) if row else None

    def set_curator(self, email: str, is_curator: bool) -> User | None:
        """Grant or take back the curator role; None when no account has that address."""
        with self.write() as conn:
            row = conn.execute(
                "UPDATE users SET is_curator = ? WHERE email = ? RETURNING *",
                (int(is_curator), email.strip().lower()),
            ).fetchone()
        return _user(row) if row else None

    # -- sign-in links, sessions, API tokens ----------------------------------

    def add_login_token(
        self, token_hash: str, email: str, now: datetime, expires: datetime
    ) -> None:
        """Record a sign-in link (by the hash of its token)."""
        with self.write() as conn:
            conn.execute(
                "INSERT INTO login_tokens (token_hash, email, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (token_hash, email.strip().lower(), iso(now), iso(expires)),
            )
            # Spent and expired links are of no use to anyone: keep the table small.
            conn.execute(
                "DELETE FROM login_tokens WHERE expires_at < ? AND created_at < ?",
                (iso(now), iso(now)),
            )

    def login_token_email(self, token_hash: str, now: datetime) -> str | None:
        """The address an unused, unexpired sign-in link is for (without spending it)."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT email FROM login_tokens WHERE token_hash = ? AND used_at IS NULL "
                "AND expires_at > ?",
                (token_hash, iso(now)),
            ).fetchone()
        return str(row[0]) if row else None

    def use_login_token(self, token_hash: str, now: datetime) -> str | None:
        """Spend a sign-in link: its address if it was unused and unexpired, else None.
        One statement, so two clicks on one link cannot both succeed."""
        with self.write() as conn:
            row = conn.execute(
                "UPDATE login_tokens SET used_at = ? WHERE token_hash = ? AND used_at IS NULL "
                "AND expires_at > ? RETURNING email",
                (iso(now), token_hash, iso(now)),
            ).fetchone()
        return str(row[0]) if row else None

    def add_session(self, token_hash: str, user_id: int, now: datetime, expires: datetime) -> None:
        """Record a session (by the hash of its cookie)."""
        with self.write() as conn:
            conn.execute(
                "INSERT INTO sessions (token_hash, user_id, created_at, expires_at) "
                "VALUES (?, ?, ?, ?)",
                (token_hash, user_id, iso(now), iso(expires)),
            )
            conn.execute("DELETE FROM sessions WHERE expires_at < ?", (iso(now),))

    def session_user(self, token_hash: str, now: datetime) -> User | None:
        """The account of a live session."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT u.* FROM sessions s JOIN users u ON u.id = s.user_id "
                "WHERE s.token_hash = ? AND s.expires_at > ?",
                (token_hash, iso(now)),
            ).fetchone()
        return _user(row) if row else None

    def delete_session(self, token_hash: str) -> None:
        """End a session (sign out)."""
        with self.write() as conn:
            conn.execute("DELETE FROM sessions WHERE token_hash = ?", (token_hash,))

    def add_api_token(self, token_hash: str, user_id: int, name: str, now: datetime) -> None:
        """Record a personal API token (by its hash)."""
        with self.write() as conn:
            conn.execute(
                "INSERT INTO api_tokens (token_hash, user_id, name, created_at) "
                "VALUES (?, ?, ?, ?)",
                (token_hash, user_id, name, iso(now)),
            )

    def api_token_user(self, token_hash: str) -> User | None:
        """The account a personal API token belongs to."""
        with self.read() as conn:
            row = conn.execute(
                "SELECT u.* FROM api_tokens t JOIN users u ON u.id = t.user_id "
                "WHERE t.token_hash = ?",
                (token_hash,),
            ).fetchone()
        return _user(row) if row else None

    def list_api_tokens(self, user_id: int) -> list[tuple[str, str, str]]:
        """A user's tokens as (hash prefix, name, created) — the tokens themselves are
        never stored."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT token_hash, name, created_at FROM api_tokens WHERE user_id = ? "
                "ORDER BY created_at",
                (user_id,),
            ).fetchall()
        return [(row[0][:12], row[1], row[2]) for row in rows]

    def delete_api_token(self, user_id: int, hash_prefix: str) -> bool:
        """Revoke one of a user's tokens by the prefix shown on the account page."""
        if len(hash_prefix) < 12:
            return False
        with self.write() as conn:
            gone = conn.execute(
                "DELETE FROM api_tokens WHERE user_id = ? AND substr(token_hash, 1, ?) = ?",
                (user_id, len(hash_prefix), hash_prefix),
            ).rowcount
        return bool(gone > 0)
