"""Search inside PostgreSQL: the keyword query language as a tsquery over the weighted
tsvector (GIN), ranked like BM25 from what PostgreSQL offers; nearest vectors through
pgvector's HNSW index. Every word reaches the database as a bound parameter of a tsquery
function, never as query syntax.

Ranking follows the same rule as the tantivy index (querylang.ranking_terms): papers
holding any of the query's words, quoted phrases required; each word scores
idf x r / (r + 1), r its ts_rank_cd over the weighted tsvector (titles A 1.0, authors B
0.4, abstracts C 0.5) — a saturating count, as BM25's, times the word's rarity. Chosen on
the dev half of eval/judgments.json (`python eval/run.py --store postgresql`; bench/
RESULTS.md §9): the earlier ranking (all words required first, then any; raw ts_rank_cd,
abstracts 0.2) had nDCG@10 0.657 on dev, this one 0.709."""

from __future__ import annotations

import math
import re

import numpy as np
import numpy.typing as npt

from paperwire.acronyms import MAX_LONG_WORDS, AcronymDictionary, expand
from paperwire.querylang import STOP_WORDS, KeywordQuery, Term, ranking_terms
from paperwire.store.sqlconn import Conn
from paperwire.store.visibility import PUBLIC
from paperwire.topics import categories_for

_WORDLIKE = re.compile(r"^\w+$", re.UNICODE)
# pgvector's HNSW returns at most ef_search (<= 1000) candidates per scan.
MAX_EF_SEARCH = 1000
# At least this many candidates from the halfvec index are re-scored on the full vectors:
# the breadth at which it matched float32 HNSW's recall (0.978 at 100k, bench §8).
MIN_CANDIDATES = 200
# When some of the words will do, each word's rank counts by its rarity (ts_rank_cd knows
# nothing of how common a word is, so a paper matching only "molecules" would rank below
# one matching only "codes" in a corpus full of codes). Counting stops here to stay cheap:
# a word in this many papers or more gets the lowest weight.
RARITY_COUNT_CAP = 5000
# ts_rank_cd's label weights {D, C, B, A}: abstracts (C), authors (B), titles (A).
RANK_WEIGHTS = "{0.1, 0.5, 0.4, 1.0}"
# ts_rank_cd's normalisation 32: rank / (rank + 1), a word's count saturating.
RANK_NORMALISATION = 32
VECTOR_INDEX = "paper_vectors_hnsw"
# As migration 0006 defines it (rebuilt from here after a backfill set it aside).
CREATE_VECTOR_INDEX = (
    f"CREATE INDEX IF NOT EXISTS {VECTOR_INDEX} ON paper_vectors "
    "USING hnsw ((CAST(embedding AS halfvec(384))) halfvec_cosine_ops)"
)


def _term(term: Term) -> tuple[str, list[str]]:
    words = [w.lower() for w in term.words if _WORDLIKE.match(w)]
    if not words:
        return "", []
    if term.prefix and len(words) == 1:
        return "to_tsquery('english', ?)", [f"{words[0]}:*"]
    if len(words) > 1:
        return "phraseto_tsquery('english', ?)", [" ".join(words)]
    return "plainto_tsquery('english', ?)", [words[0]]


_ACRONYM_LIKE = re.compile(r"^[A-Za-z][A-Za-z0-9]{1,9}$")
# Papers read for "Long Form (ACRONYM)" pairs a query (paperwire.acronyms), at most.
ACRONYM_ROWS = 200
# Long forms are looked for in queries of at most this many words (each run of 2 or more
# of them is a phrase the database is asked about).
ACRONYM_QUERY_WORDS = 8


def _windows(words: list[str]) -> list[list[str]]:
    """Runs of 2..MAX_LONG_WORDS query words neither starting nor ending with a stop word
    (where a long form may stand)."""
    runs = []
    for n in range(2, min(MAX_LONG_WORDS, len(words)) + 1):
        for start in range(len(words) - n + 1):
            run = words[start : start + n]
            if run[0] not in STOP_WORDS and run[-1] not in STOP_WORDS:
                runs.append(run)
    return runs


def _acronym_pairs(conn: Conn, singles: list[str], words: list[str]) -> AcronymDictionary:
    """The "Long Form (ACRONYM)" pairs that bear on a query, read at query time from the
    papers the database's own index says hold them (no dictionary kept outside it): papers
    holding a query word in parentheses ("(GAN)", "(GANs)"), and, for a query of at most
    ACRONYM_QUERY_WORDS words, papers holding a run of its words before a parenthesis;
    at most ACRONYM_ROWS papers of each, their pairs found by paperwire.acronyms."""
    dictionary = AcronymDictionary()
    words_like = {w.lower() for w in singles if _ACRONYM_LIKE.match(w)}
    # A plural ("gans") stands for its acronym (AcronymDictionary.long_forms).
    candidates = sorted(words_like | {w[:-1] for w in words_like if len(w) > 2 and w[-1] == "s"})
    if candidates:
        found = " || ".join("plainto_tsquery('english', ?)" for _ in candidates)
        pattern = r"\(\s*(" + "|".join(candidates) + r")s?\s*[),;]"
        rows = conn.execute(
            f"SELECT p.title, p.abstract FROM papers p WHERE p.search @@ ({found}) "
            f"AND (p.title || ' ' || p.abstract) ~* ? AND {PUBLIC} LIMIT {ACRONYM_ROWS}",
            (*candidates, pattern),
        ).fetchall()
        for title, abstract in rows:
            dictionary.add_text(f"{title}. {abstract}")
    plain = [w.lower() for w in words if _WORDLIKE.match(w)]
    runs = _windows(plain) if len(plain) <= ACRONYM_QUERY_WORDS else []
    if runs:
        found = " || ".join("phraseto_tsquery('english', ?)" for _ in runs)
        pattern = "(" + "|".join(r"\W+".join(run) for run in runs) + r")\w*\s*\("
        rows = conn.execute(
            f"SELECT p.title, p.abstract FROM papers p WHERE p.search @@ ({found}) "
            f"AND (p.title || ' ' || p.abstract) ~* ? AND {PUBLIC} LIMIT {ACRONYM_ROWS}",
            (*[" ".join(run) for run in runs], pattern),
        ).fetchall()
        for title, abstract in rows:
            dictionary.add_text(f"{title}. {abstract}")
    return dictionary


TsTerm = tuple[str, list[str]]
# What one query word (or one long form) scores: the greatest of its alternatives, each
# the sum of its terms' scores.
Scored = list[list[TsTerm]]


def _expanded(conn: Conn, query: KeywordQuery, words: list[Term]) -> list[Scored]:
    """The ranked words as tsquery expressions, each known acronym OR its long forms
    (phrases), and each run of words that is a known long form scored as the better of
    the words and its acronym, as tantivy's index expands them (paperwire.acronyms)."""
    singles = [t.words if len(t.words) == 1 and not t.prefix else () for t in words]
    query_words = [w for t in query.positive if not t.prefix for w in t.words]
    dictionary = _acronym_pairs(conn, [s[0] for s in singles if s], query_words)
    expansion = expand(singles, query_words, dictionary)
    built: dict[int, Scored] = {}
    for position, term in enumerate(words):
        expression, values = _term(term)
        if not expression:
            continue
        for form in expansion.long_forms.get(position, []):
            expression = f"({expression} || phraseto_tsquery('english', ?))"
            values = [*values, " ".join(form)]
        built[position] = [[(expression, values)]]
    for acronym, positions in expansion.acronyms:
        acronym_term = _term(Term(words=(acronym,)))
        run = [built.pop(p)[0][0] for p in positions if p in built]
        if acronym_term[0] and run:
            built[positions[0]] = [run, [acronym_term]]
    return [built[p] for p in sorted(built)]


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def _filters(query: KeywordQuery) -> tuple[list[str], list[object]]:
    # Unconfirmed papers are never found (store.visibility).
    where: list[str] = [PUBLIC]
    params: list[object] = []
    filters = query.filters
    if filters.year_from is not None:
        where.append("p.year >= ?")
        params.append(filters.year_from)
    if filters.year_to is not None:
        where.append("p.year <= ?")
        params.append(filters.year_to)
    if filters.categories:
        options = []
        for category in filters.categories:
            value = _like_escape(category.lower())
            options.append(
                "(' ' || lower(p.categories) || ' ') LIKE ? ESCAPE '\\' "
                "OR (' ' || lower(p.categories)) LIKE ? ESCAPE '\\'"
            )
            params += [f"% {value} %", f"% {value}.%"]
        where.append("(" + " OR ".join(options) + ")")
    if filters.has_code:
        where.append("p.code_urls != '[]'")
    for slug in filters.topics:  # querylang.matches: topics.topic_matches
        options = ["p.topics LIKE ? ESCAPE '\\'"]
        params.append(f"%|{_like_escape(slug)}|%")
        for category in categories_for(slug):
            options.append("(' ' || p.categories || ' ') LIKE ? ESCAPE '\\'")
            params.append(f"% {_like_escape(category)} %")
        where.append("(" + " OR ".join(options) + ")")
    for name in filters.authors:
        words = [w.lower() for w in name if _WORDLIKE.match(w)]
        if words:
            where.append("p.search @@ to_tsquery('simple', ?)")
            params.append(" & ".join(f"{w}:B" for w in words))
    return where, params


def fulltext(conn: Conn, query: KeywordQuery, limit: int, offset: int) -> list[tuple[int, float]]:
    """(paper id, score) best first: papers holding any of the query's words (and every
    quoted phrase), ranked by _bm25_like_rank, as tantivy ranks them. A query of filters
    only lists the newest papers passing them."""
    words, phrases = ranking_terms(query)
    scored = _expanded(conn, query, words) if words else []
    ranked = [term for item in scored for alternative in item for term in alternative]
    required = [t for t in map(_term, phrases) if t[0]]
    negative = [n for n in map(_term, query.negative) if n[0]]
    where, filter_params = _filters(query)
    if not ranked and not required:
        if query.positive and not query.filters.active:
            return []
        sql = "SELECT p.id, 0.0 FROM papers p"
        params: list[object] = []
        clauses = list(where)
        params += filter_params
        for expression, values in negative:
            clauses.append(f"NOT (p.search @@ {expression})")
            params += values
        if clauses:
            sql += " WHERE " + " AND ".join(clauses)
        sql += " ORDER BY p.published DESC NULLS LAST, p.id DESC LIMIT ? OFFSET ?"
        rows = conn.execute(sql, (*params, limit, offset)).fetchall()
        return [(int(r[0]), 0.0) for r in rows]
    # Quoted phrases must all be there; without them, any word will do (words only add to
    # the score of papers holding the phrases).
    matching = required or ranked
    joiner = " && " if required else " || "
    tsquery = "(" + joiner.join(e for e, _ in matching) + ")"
    params = [v for _, values in matching for v in values]
    for expression, values in negative:
        tsquery = f"({tsquery} && !!{expression})"
        params += values
    score_sql, score_params = _bm25_like_rank(conn, scored + [[[t]] for t in required])
    sql = (
        f"WITH q AS (SELECT {tsquery} AS query) "
        f"SELECT p.id, {score_sql} AS score FROM papers p, q "
        "WHERE p.search @@ q.query"
        + "".join(f" AND {w}" for w in where)
        + " ORDER BY score DESC, p.id LIMIT ? OFFSET ?"
    )
    rows = conn.execute(sql, (*params, *score_params, *filter_params, limit, offset)).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]


def _bm25_like_rank(conn: Conn, items: list[Scored]) -> tuple[str, list[object]]:
    """A score expression summing, over the items (a word, a phrase, or a long form with
    its acronym), the greatest of the item's alternatives, each the sum over its terms of
    idf x r / (r + 1), where r is the term's ts_rank_cd (RANK_WEIGHTS,
    RANK_NORMALISATION) and idf = log(1 + papers / papers holding it), the count capped
    at RARITY_COUNT_CAP."""
    papers = int(
        conn.execute(
            "SELECT CASE WHEN c.reltuples > 0 THEN c.reltuples::bigint "
            "ELSE (SELECT count(*) FROM papers) END "
            "FROM pg_class c WHERE c.oid = 'papers'::regclass"
        ).fetchone()[0]
    )
    parts: list[str] = []
    params: list[object] = []
    for item in items:
        alternatives = []
        for alternative in item:
            sums = []
            for expression, values in alternative:
                holding = int(
                    conn.execute(
                        "SELECT count(*) FROM (SELECT 1 FROM papers p WHERE p.search @@ "
                        f"{expression} LIMIT {RARITY_COUNT_CAP}) s",
                        values,
                    ).fetchone()[0]
                )
                sums.append(
                    f"? * ts_rank_cd('{RANK_WEIGHTS}', p.search, {expression}, "
                    f"{RANK_NORMALISATION})"
                )
                params += [math.log(1 + max(papers, 1) / max(holding, 1)), *values]
            alternatives.append("(" + " + ".join(sums) + ")")
        best = ", ".join(alternatives)
        parts.append(alternatives[0] if len(alternatives) == 1 else f"GREATEST({best})")
    return "(" + " + ".join(parts) + ")", params


def vector_literal(vector: npt.NDArray[np.float32]) -> str:
    """pgvector's text form of a vector."""
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


def _where(query: KeywordQuery) -> tuple[list[str], list[object]]:
    """SQL conditions on papers `p` for a query's filters and exclusions (its words aside)."""
    where, params = _filters(query)
    for expression, values in (n for n in map(_term, query.negative) if n[0]):
        where.append(f"NOT (p.search @@ {expression})")
        params += values
    return where, params


def nearest(
    conn: Conn,
    model: str,
    vector: npt.NDArray[np.float32],
    k: int,
    where: KeywordQuery | None = None,
    among: list[int] | None = None,
) -> list[tuple[int, float]]:
    """(paper id, cosine similarity) of about the k nearest vectors, best first: HNSW over
    the halfvec copies gives the candidates, the full vectors their exact scores.

    With `among` (the papers a filter passes, as the keyword index beside the store
    counted them: few), those rows alone are scored exactly, read by their key.

    With `where` (a query's filters and exclusions), the filter is part of the scan:
    pgvector's iterative scan walks the graph until enough papers pass (at most
    hnsw.max_scan_tuples); when fewer than k passed, the filter is narrow, and the papers
    passing it are scored exactly (one pass over the papers, as a filter-only keyword
    query takes). Before, the 1,000 nearest were filtered afterwards: a narrow filter
    found nothing it should have (issue 25)."""
    k = max(1, min(k, MAX_EF_SEARCH))
    literal = vector_literal(vector)
    if among is not None:
        if not among:
            return []
        rows = conn.execute(
            "SELECT paper_id, 1 - (embedding <=> CAST(? AS vector)) AS score "
            "FROM paper_vectors WHERE model = ? AND embedding IS NOT NULL "
            "AND paper_id = ANY(?) ORDER BY score DESC, paper_id LIMIT ?",
            (literal, model, among, k),
        ).fetchall()
        return [(int(r[0]), float(r[1])) for r in rows]
    candidates = min(MAX_EF_SEARCH, max(2 * k, MIN_CANDIDATES))
    conn.execute(f"SET LOCAL hnsw.ef_search = {candidates}")
    # Rows of another model (and papers the filter drops) are skipped as the scan goes
    # on, not counted against it.
    conn.execute("SET LOCAL hnsw.iterative_scan = relaxed_order")
    conditions, params = _where(where) if where is not None else ([], [])
    join = " JOIN papers p ON p.id = v.paper_id" if conditions else ""
    filtered = "".join(f" AND {c}" for c in conditions)
    rows = conn.execute(
        "SELECT paper_id, 1 - (embedding <=> CAST(? AS vector)) AS score FROM ("
        f"SELECT v.paper_id, v.embedding FROM paper_vectors v{join} "
        f"WHERE v.model = ? AND v.embedding IS NOT NULL{filtered} "
        "ORDER BY CAST(v.embedding AS halfvec(384)) <=> CAST(CAST(? AS vector) AS halfvec(384)) "
        "LIMIT ?) candidates ORDER BY score DESC, paper_id LIMIT ?",
        (literal, model, *params, literal, candidates, k),
    ).fetchall()
    if conditions and len(rows) < k:
        # An expression the HNSW index does not hold: an exact scan of the passing rows.
        rows = conn.execute(
            "SELECT v.paper_id, 1 - (v.embedding <=> CAST(? AS vector)) AS score "
            "FROM paper_vectors v JOIN papers p ON p.id = v.paper_id "
            f"WHERE v.model = ? AND v.embedding IS NOT NULL{filtered} "
            "ORDER BY score DESC, v.paper_id LIMIT ?",
            (literal, model, *params, k),
        ).fetchall()
    return [(int(r[0]), float(r[1])) for r in rows]
