"""Upstream fields this site works out itself (issue 29): the keyphrases extracted for
papers upstream gives no keywords (paperwire.keyphrases). Only such "local" fields are
written here; what trusted sources say comes in through the merge (models.merge_papers)."""

from __future__ import annotations

from datetime import datetime

import orjson

from paperwire import upstream
from paperwire.models import Paper
from paperwire.store.papers import PaperTables
from paperwire.store.rows import row_to_paper
from paperwire.store.sqlconn import Tables
from paperwire.topics import topics_column


class UpstreamTables(Tables):
    """Part of every Store: locally extracted keyphrases."""

    def papers_needing_keyphrases(self, after_id: int, limit: int) -> list[tuple[int, Paper]]:
        """Confirmed papers after `after_id` (by id) with neither upstream keywords nor
        extracted keyphrases, oldest first."""
        with self.read() as conn:
            rows = conn.execute(
                "SELECT * FROM papers WHERE id > ? AND confirmed = 1 AND abstract != '' "
                "AND extras NOT LIKE '%\"keywords\":%' AND extras NOT LIKE '%\"keyphrases\":%' "
                "ORDER BY id LIMIT ?",
                (after_id, limit),
            ).fetchall()
        return [(row["id"], row_to_paper(row)) for row in rows]

    def save_keyphrases(self, found: list[tuple[int, list[str]]], now: datetime) -> int:
        """Keep extracted keyphrases (source "local") on their papers, under a new change
        number so the keyword index learns their topics; returns how many were kept."""
        if not found:
            return 0
        kept = 0
        with self.write() as conn:
            seq = PaperTables._next_seq(conn)
            for pid, phrases in found:
                row = conn.execute("SELECT * FROM papers WHERE id = ?", (pid,)).fetchone()
                if row is None:
                    continue
                paper = row_to_paper(row)
                made = upstream.make("local", now, keyphrases=phrases)
                if not made or upstream.KEYWORDS in paper.extras:
                    continue
                paper.extras = upstream.merge(paper.extras, made)
                conn.execute(
                    "UPDATE papers SET extras = ?, topics = ?, seq = ? WHERE id = ?",
                    (
                        orjson.dumps(upstream.to_json(paper.extras)).decode("utf-8"),
                        topics_column(paper),
                        seq,
                        pid,
                    ),
                )
                kept += 1
        return kept
