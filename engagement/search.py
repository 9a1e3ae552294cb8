"""Full-text search of comments (the staff queue's ``q=``): the body, the author's name and email.

- SQLite: an FTS5 table, ``comments_fts``, with external content (it holds only the index, the text
  stays in ``comments``), kept by three triggers on ``comments``. ``fts_ddl`` is the one definition the
  migration runs; a migration that rebuilds ``comments`` (SQLite's batch mode drops the table, and its
  triggers with it) must run it again, and tests/test_search.py fails if the triggers are missing.
- PostgreSQL: a table beside ``comments``, ``comment_search`` (comment id, ``to_tsvector('simple', body || ' '
  || author_name || ' ' || author_email)``, GIN), kept by triggers on insert and on a change of those three
  columns. Not a column of ``comments``: every update of a comment (a status, a like) writes a new row
  version with all its index entries, and a stored tsvector there made a bulk approve five times slower.

Both with no stemming and no stop words ('simple', unicode61), and both cut the text into runs of letters and
digits (PostgreSQL's parser would keep "ana@example.org" whole, FTS5 cuts it in three): one behaviour for all
34 languages and both databases. Each cuts a search the way it cuts comments (``terms``, ``pg_terms``): they
differ on combining marks (Devanagari's vowel signs are letters to PostgreSQL's locale, separators to FTS5). A
query's words (the first ``MAX_TERMS``) must all occur, each as a word or the start of one ("counc"
finds "council"), anywhere in the three fields. Punctuation only separates words, so no input can be
a syntax error in either database's query language.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    bindparam,
    false,
    literal_column,
    select,
    text,
)
from sqlalchemy.orm import Session

from engagement.database import among

MAX_TERMS = 8
MAX_TERM_LENGTH = 64
# How many of a listing's next rows are tested first, and the most matches fetched for a rare word.
WINDOW = 2_000
MAX_MATCHES = 20_000
_WORD = re.compile(r"[^\W_]+")  # letters and digits, as both indexes cut the text

# What separates words on PostgreSQL, in a comment's document and in a search (pg_terms): everything but its
# locale's letters and digits.
_PG_SEPARATORS = "[^[:alnum:]]+"
# PostgreSQL text cannot hold NUL, nor can UTF-8 a lone surrogate; neither is a letter or a digit anywhere.
_UNSENDABLE = re.compile(r"[\x00\ud800-\udfff]")
PG_DDL = (
    # ON UPDATE too: a comment's id changed by hand or by a restore takes its search entry along.
    "CREATE TABLE comment_search (comment_id INTEGER PRIMARY KEY REFERENCES comments (id) "
    "ON DELETE CASCADE ON UPDATE CASCADE, document TSVECTOR NOT NULL)",
    "CREATE INDEX ix_comment_search_document ON comment_search USING gin (document)",
    # Statements of constants only (S608 sees the separators joined in, not input).
    "CREATE FUNCTION comment_search_sync() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN "  # noqa: S608
    "INSERT INTO comment_search (comment_id, document) VALUES (NEW.id, "
    "to_tsvector('simple', regexp_replace(NEW.body || ' ' || NEW.author_name || ' ' || NEW.author_email, "
    "'" + _PG_SEPARATORS + "', ' ', 'g'))) "
    "ON CONFLICT (comment_id) DO UPDATE SET document = EXCLUDED.document; RETURN NULL; END $$",
    "CREATE TRIGGER comment_search_insert AFTER INSERT ON comments FOR EACH ROW "
    "EXECUTE FUNCTION comment_search_sync()",
    "CREATE TRIGGER comment_search_update AFTER UPDATE OF body, author_name, author_email ON comments "
    "FOR EACH ROW EXECUTE FUNCTION comment_search_sync()",
    "INSERT INTO comment_search (comment_id, document) SELECT id, "  # noqa: S608
    "to_tsvector('simple', regexp_replace(body || ' ' || author_name || ' ' || author_email, "
    "'" + _PG_SEPARATORS + "', ' ', 'g')) FROM comments",
)
PG_DROP = (
    "DROP TRIGGER IF EXISTS comment_search_update ON comments",
    "DROP TRIGGER IF EXISTS comment_search_insert ON comments",
    "DROP FUNCTION IF EXISTS comment_search_sync()",
    "DROP TABLE IF EXISTS comment_search",
)
FTS_TABLE = "comments_fts"
_FTS_TRIGGERS = ("comments_fts_insert", "comments_fts_delete", "comments_fts_update")
_INSERT_NEW = (
    "INSERT INTO comments_fts(rowid, body, author_name, author_email) "
    "VALUES (new.id, new.body, new.author_name, new.author_email);"
)
_DELETE_OLD = (
    "INSERT INTO comments_fts(comments_fts, rowid, body, author_name, author_email) "
    "VALUES ('delete', old.id, old.body, old.author_name, old.author_email);"
)


def fts_ddl() -> list[str]:
    """The SQLite statements that create the search table and the triggers that keep it, and fill it."""
    return [
        "CREATE VIRTUAL TABLE IF NOT EXISTS comments_fts USING fts5(body, author_name, author_email, "
        "content='comments', content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
        *(f"DROP TRIGGER IF EXISTS {trigger}" for trigger in _FTS_TRIGGERS),
        f"CREATE TRIGGER comments_fts_insert AFTER INSERT ON comments BEGIN {_INSERT_NEW} END",
        f"CREATE TRIGGER comments_fts_delete AFTER DELETE ON comments BEGIN {_DELETE_OLD} END",
        "CREATE TRIGGER comments_fts_update AFTER UPDATE OF body, author_name, author_email ON comments "
        f"BEGIN {_DELETE_OLD} {_INSERT_NEW} END",
        "INSERT INTO comments_fts(comments_fts) VALUES ('rebuild')",
    ]


def fts_drop() -> list[str]:
    """The statements that remove them (the migration's downgrade)."""
    return [
        *(f"DROP TRIGGER IF EXISTS {trigger}" for trigger in _FTS_TRIGGERS),
        "DROP TABLE IF EXISTS comments_fts",
    ]


def terms(query: str) -> list[str]:
    """The words of a search, lower-cased, each once, at most ``MAX_TERMS``: cut as FTS5 cuts a comment
    (letters and digits by their Unicode category, so a combining mark separates, as it does there)."""
    return _distinct(_WORD.findall(query.lower()))


def pg_terms(session: Session, query: str) -> list[str]:
    """The words of a search as PostgreSQL cuts a comment's document (``PG_DDL``: its own ``[[:alnum:]]``,
    from the database's locale), so both sides of ``@@`` agree whatever the script. Python's cut differs
    where a word holds combining marks: the locale counts Devanagari's vowel signs as letters and Python
    does not, so "समाचार" was three query words against one word in the document, and found nothing."""
    words = session.scalars(
        text("SELECT regexp_split_to_table(lower(:query), :separators)"),
        {"query": _UNSENDABLE.sub(" ", query), "separators": _PG_SEPARATORS},
    )
    return _distinct(word for word in words if word)


def _distinct(words: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(word[:MAX_TERM_LENGTH] for word in words))[:MAX_TERMS]


Narrow = Callable[[Select[Any], Sequence[ColumnElement[Any]], int], Select[Any]]


def narrowing(session: Session, query_text: str, id_column: ColumnElement[int]) -> Narrow:
    """What a listing of comments (``pagination.keyset_page``) applies to keep only the comments a search
    finds, given its query (cursor included), its order and how many rows it wants.

    Neither database's planner can tell a common word from a rare one (no statistics for prefixes, none
    at all for FTS5), and each wrong guess costs seconds at a million comments: walking the listing's
    index for a rare word, or fetching and sorting a third of the table for a common one. So the listing
    asks first, in two bounded steps, each a few milliseconds:

    1. which of its next ``WINDOW`` rows match: if more than it wants, the page is among them (the window
       is a prefix of the listing's order);
    2. otherwise the word is rare here: every match, up to ``MAX_MATCHES``, by the search index.

    A word both rare near the top of the listing and common further down (more than ``MAX_MATCHES``)
    gets the plain condition, correct and slower.
    """
    postgres = session.get_bind().dialect.name == "postgresql"
    words = pg_terms(session, query_text) if postgres else terms(query_text)
    matches = _pg_condition(words) if postgres else _sqlite_condition(words)

    def narrow(query: Select[Any], order: Sequence[ColumnElement[Any]], wanted: int) -> Select[Any]:
        if not words:
            return query.where(false())
        window = list(session.scalars(query.with_only_columns(id_column).order_by(*order).limit(WINDOW)))
        if not window:
            return query.where(false())
        found = _matching_ids(session, window, words, postgres=postgres)
        if len(found) >= wanted or len(window) < WINDOW:
            # The window is in the listing's order: its first matches are the page.
            first = [row_id for row_id in window if row_id in found][:wanted]
            return query.where(among(id_column, first))
        everywhere = list(session.scalars(_all_matches(words, postgres=postgres).limit(MAX_MATCHES + 1)))
        if len(everywhere) <= MAX_MATCHES:
            return query.where(among(id_column, everywhere))
        return query.where(matches)

    return narrow


def _pg_query(words: list[str]) -> str:
    return " & ".join(f"'{word}':*" for word in words)


def _fts_query(words: list[str]) -> str:
    return " ".join(f'"{word}"*' for word in words)


def _pg_condition(words: list[str]) -> ColumnElement[bool]:
    return literal_column("comments.id").in_(
        select(literal_column("comment_id"))
        .select_from(text("comment_search"))
        .where(
            text("document @@ to_tsquery('simple', :search_terms)").bindparams(search_terms=_pg_query(words))
        )
    )


def _sqlite_condition(words: list[str]) -> ColumnElement[bool]:
    # "+": SQLite then walks the listing's own index and keeps the rows in the (materialized) answer.
    return literal_column("+comments.id").in_(_fts_ids(_fts_query(words)))


def _matching_ids(session: Session, window: list[int], words: list[str], *, postgres: bool) -> set[int]:
    """The ids of ``window`` that the search finds."""
    if postgres:
        # MATERIALIZED: the window's rows are read, then tested; left to itself, the planner would
        # also read the word's whole GIN posting list (a third of the table for a common word).
        tested = text(
            "WITH candidates AS MATERIALIZED (SELECT comment_id, document FROM comment_search "
            "WHERE comment_id = ANY(:ids)) "
            "SELECT comment_id FROM candidates WHERE document @@ to_tsquery('simple', :search_terms)"
        ).bindparams(bindparam("ids", window, type_=ARRAY(Integer)), search_terms=_pg_query(words))
        return set(session.scalars(tested))
    # FTS5 reads a rowid range of its index cheaply; the window's ids are within it.
    ranged = _fts_ids(_fts_query(words)).where(literal_column("rowid").between(min(window), max(window)))
    members = set(window)
    return {row_id for row_id in session.scalars(ranged) if row_id in members}


def _all_matches(words: list[str], *, postgres: bool) -> Select[Any]:
    if postgres:
        return (
            select(literal_column("comment_id"))
            .select_from(text("comment_search"))
            .where(
                text("document @@ to_tsquery('simple', :search_terms)").bindparams(
                    search_terms=_pg_query(words)
                )
            )
        )
    return _fts_ids(_fts_query(words))


def _fts_ids(match: str) -> Select[Any]:
    return (
        select(literal_column("rowid"))
        .select_from(text(FTS_TABLE))
        .where(text("comments_fts MATCH :search_match").bindparams(search_match=match))
    )
