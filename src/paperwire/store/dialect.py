"""Where the two engines' SQL differs, held in one place: the table methods write SQL both
engines speak and take the few engine-specific pieces from their store's dialect."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Dialect:
    """One engine's differences from the shared SQL."""

    # The engine's folder of numbered migrations (store/migrations/<name>/).
    name: str
    # The driver's placeholder for a bound parameter; the shared SQL writes '?'.
    placeholder: str
    # Appended to the outbox claim's row selection: concurrent senders skip rows another
    # sender is claiming (PostgreSQL); SQLite's one writer serialises the claim anyway.
    skip_locked: str
    # Between an INSERT's column list and VALUES when a move writes explicit ids into
    # identity columns (PostgreSQL's are GENERATED ALWAYS).
    insert_override: str
    # Run first in every paper write, before reading what is stored: PostgreSQL locks
    # the sequence row so two imports never plan an insert of the same new paper;
    # SQLite's one writer already holds them off ("" = nothing to run).
    lock_paper_writes: str
    # How to filter paper_vectors by model when looking rows up by paper id (SQLite
    # needs "+model" to keep its planner on the primary key: on a plain "model = ?" it
    # picked the (model, seq) index and scanned every vector of the model).
    vector_model_filter: str
    # Moves a table's identity past the ids a move inserted explicitly ({table} filled
    # in); "" where the engine does it itself (SQLite's AUTOINCREMENT).
    reset_identity: str
    # Columns only this engine has, derived by it from the others (PostgreSQL's
    # generated tsvector and its pgvector copy of each vector): never moved or compared.
    derived_columns: frozenset[str]
    # Appended to a SELECT that reads a row the transaction then decides on: PostgreSQL
    # locks it, so a second transaction deciding on the same row waits for the first
    # (two first visits of a day keep one /for-you list); SQLite's one writer already
    # serialises them.
    lock_rows: str = ""
    # Run with a name ('?') before a check-then-write on a value no row holds yet (a
    # handle that must be unique): PostgreSQL takes a transaction-long advisory lock on
    # the name's hash, so a second writer of the same value waits for the first to commit
    # and then sees its row (its unique index alone would fail the second UPDATE);
    # SQLite's one writer already serialises them ("" = nothing to run).
    lock_name: str = ""

    def native(self, sql: str) -> str:
        """Shared SQL ('?' placeholders) as this engine's driver takes it (for '%s', a
        literal '%' is doubled)."""
        if self.placeholder == "?":
            return sql
        return sql.replace("%", "%%").replace("?", self.placeholder)


SQLITE = Dialect(
    name="sqlite",
    placeholder="?",
    skip_locked="",
    insert_override="",
    lock_paper_writes="",
    vector_model_filter="+model = ?",
    reset_identity="",
    derived_columns=frozenset(),
)

POSTGRESQL = Dialect(
    name="postgresql",
    placeholder="%s",
    skip_locked=" FOR UPDATE SKIP LOCKED",
    insert_override=" OVERRIDING SYSTEM VALUE",
    lock_paper_writes="SELECT value FROM sync_state WHERE name = 'seq' FOR UPDATE",
    vector_model_filter="model = ?",
    reset_identity=(
        "SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
        "coalesce(max(id), 1), max(id) IS NOT NULL) FROM {table}"
    ),
    derived_columns=frozenset({"search", "embedding"}),
    # NO KEY: the lockers still wait for each other, but not a foreign key's check of the
    # row (a reply's notice to a reader whose own comment holds their row: FOR UPDATE
    # deadlocked the two, tests/test_store_races.py).
    lock_rows=" FOR NO KEY UPDATE",
    # The two-key form: a key space of its own, apart from the migrations' one-key locks.
    lock_name="SELECT pg_advisory_xact_lock(72616100, hashtext(?))",
)

DIALECTS = (SQLITE, POSTGRESQL)
