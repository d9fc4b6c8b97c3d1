"""The tracking database: documents, tasks and duties in SQLite (default OUT/directives.sqlite).

Rows are keyed by stable ids and upserted, so that a tracking system can read the file
(or copy rows out of it) after every run:

- ``documents``: one row per document, key ``doc_id``;
- ``tasks``: key ``(doc_id, task_id)``;
- ``duties``: key ``(doc_id, task_id, agency_key, role)`` where ``agency_key`` is the
  agency name folded for matching (``pipeline.ids.agency_key``: ``so-noi-vu``); the
  column ``duty_id`` holds ``pipeline.ids.duty_id`` (``<doc_id>:<task_id>:<agency_key>:<role>``).

Every row carries ``content_hash``, ``created_at`` and ``updated_at``.  A row is only
written when its content changed, so re-running the same archive changes nothing and
``updated_at`` moves only with the content.  A changed source file replaces its own rows
only: the rows of a source path whose ``doc_id`` changed are deleted, as are the tasks and
duties that a document no longer has.  Tables this module does not know (e.g. the clerk's
``corrections``) are left alone.
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterable, Optional

from pipeline import ids
from pipeline.outputs import duty_rows

DEFAULT_NAME = "directives.sqlite"

DOCUMENT_COLUMNS = ["source", "status", "doc_family", "doc_type", "number", "symbol",
                    "number_symbol", "issue_date", "place", "issuer", "parent_issuer", "subject",
                    "recipients", "distribution", "signer", "references_", "warnings",
                    "needs_review", "n_tasks", "n_duties", "schema_version"]
TASK_COLUMNS = ["seq", "label", "level", "title", "text", "deadline", "page", "needs_review",
                "n_agencies"]
DUTY_COLUMNS = ["duty_id", "agency", "task_text", "deadline", "page", "confidence", "needs_review", "seq"]

_SCHEMA = """
CREATE TABLE IF NOT EXISTS documents (
    doc_id TEXT PRIMARY KEY,
    source TEXT NOT NULL, status TEXT,
    doc_family TEXT, doc_type TEXT, number TEXT, symbol TEXT, number_symbol TEXT,
    issue_date TEXT, place TEXT, issuer TEXT, parent_issuer TEXT, subject TEXT,
    recipients TEXT, distribution TEXT, signer TEXT, references_ TEXT, warnings TEXT,
    needs_review TEXT, n_tasks INTEGER, n_duties INTEGER, schema_version TEXT,
    content_hash TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS documents_source ON documents(source);
CREATE TABLE IF NOT EXISTS tasks (
    doc_id TEXT NOT NULL, task_id TEXT NOT NULL,
    seq INTEGER, label TEXT, level INTEGER, title TEXT, text TEXT, deadline TEXT,
    page INTEGER, needs_review INTEGER, n_agencies INTEGER,
    content_hash TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (doc_id, task_id)
);
CREATE TABLE IF NOT EXISTS duties (
    doc_id TEXT NOT NULL, task_id TEXT NOT NULL, agency_key TEXT NOT NULL, role TEXT NOT NULL,
    duty_id TEXT, agency TEXT, task_text TEXT, deadline TEXT, page INTEGER, confidence REAL,
    needs_review INTEGER, seq INTEGER,
    content_hash TEXT NOT NULL, created_at TEXT NOT NULL, updated_at TEXT NOT NULL,
    PRIMARY KEY (doc_id, task_id, agency_key, role)
);
"""

def agency_key(name: str) -> str:
    """The agency name folded for matching (pipeline.ids: ``Sở Nội vụ`` -> ``so-noi-vu``)."""
    return ids.agency_key(name)


def open_db(path: str | Path) -> sqlite3.Connection:
    """Open (creating if needed) the tracking database; unknown tables are kept."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(str(path), timeout=30)
    conn.executescript(_SCHEMA)
    conn.commit()
    return conn


def _json(value: Any) -> Optional[str]:
    if value is None:
        return None
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _hash(values: Iterable[Any]) -> str:
    return hashlib.sha256(json.dumps(list(values), ensure_ascii=False, default=str)
                          .encode()).hexdigest()[:16]


def document_row(doc: dict[str, Any], status: Optional[str] = None) -> dict[str, Any]:
    duties = duty_rows(doc)
    return {
        "source": doc.get("source"), "status": status,
        "doc_family": doc.get("doc_family"), "doc_type": doc.get("doc_type"),
        "number": doc.get("number"), "symbol": doc.get("symbol"),
        "number_symbol": doc.get("number_symbol"), "issue_date": doc.get("issue_date"),
        "place": doc.get("place"), "issuer": doc.get("issuer"),
        "parent_issuer": doc.get("parent_issuer"), "subject": doc.get("subject"),
        "recipients": _json(doc.get("recipients") or []),
        "distribution": _json(doc.get("distribution") or []),
        "signer": _json(doc.get("signer") or {}),
        "references_": _json(doc.get("references") or []),
        "warnings": _json(doc.get("warnings") or []),
        "needs_review": _json(doc.get("needs_review") or []),
        "n_tasks": len(doc.get("tasks") or []), "n_duties": len(duties),
        "schema_version": doc.get("schema_version"),
    }


def task_rows(doc: dict[str, Any]) -> dict[str, dict[str, Any]]:
    rows: dict[str, dict[str, Any]] = {}
    for seq, task in enumerate(doc.get("tasks") or []):
        tid = str(task.get("id"))
        if tid in rows:          # a repeated id keeps its first occurrence
            continue
        rows[tid] = {"seq": seq, "label": task.get("label"), "level": task.get("level"),
                     "title": task.get("title"), "text": task.get("text"),
                     "deadline": task.get("deadline"), "page": task.get("page"),
                     "needs_review": int(bool(task.get("needs_review"))),
                     "n_agencies": len(task.get("agencies") or [])}
    return rows


def duty_table_rows(doc: dict[str, Any]) -> dict[tuple, dict[str, Any]]:
    rows: dict[tuple, dict[str, Any]] = {}
    for seq, duty in enumerate(duty_rows(doc)):
        key = (str(duty["task_id"]), agency_key(duty["agency"]), duty["role"])
        if key in rows:
            continue
        rows[key] = {"duty_id": ids.duty_id(duty["doc_id"], str(duty["task_id"]), duty["agency"],
                                            duty["role"]),
                     "agency": duty["agency"], "task_text": duty["task_text"],
                     "deadline": duty["deadline"], "page": duty["page"],
                     "confidence": duty["confidence"],
                     "needs_review": int(bool(duty["needs_review"])), "seq": seq}
    return rows


class _Counter:
    def __init__(self):
        self.tables = {t: {"inserted": 0, "updated": 0, "unchanged": 0, "deleted": 0}
                       for t in ("documents", "tasks", "duties")}

    def add(self, table: str, what: str, n: int = 1) -> None:
        self.tables[table][what] += n

    def summary(self) -> dict:
        out: dict[str, Any] = {k: sum(t[k] for t in self.tables.values())
                               for k in ("inserted", "updated", "unchanged", "deleted")}
        out["tables"] = self.tables
        return out


def _delete_document(conn: sqlite3.Connection, doc_id: str, counter: _Counter) -> None:
    for table in ("duties", "tasks", "documents"):
        n = conn.execute(f"DELETE FROM {table} WHERE doc_id=?", (doc_id,)).rowcount
        counter.add(table, "deleted", n)


def _sync_children(conn, table: str, key_cols: list[str], cols: list[str], doc_id: str,
                   rows: dict[tuple, dict], now: str, counter: _Counter) -> None:
    where = " AND ".join(f"{c}=?" for c in ["doc_id", *key_cols])
    existing = {tuple(r[:-1]): r[-1] for r in conn.execute(
        f"SELECT {', '.join(key_cols)}, content_hash FROM {table} WHERE doc_id=?", (doc_id,))}
    for key, row in rows.items():
        h = _hash(row[c] for c in cols)
        old = existing.pop(key, None)
        if old is None:
            conn.execute(
                f"INSERT INTO {table} (doc_id, {', '.join(key_cols)}, {', '.join(cols)}, "
                f"content_hash, created_at, updated_at) VALUES "
                f"({', '.join('?' * (1 + len(key_cols) + len(cols) + 3))})",
                (doc_id, *key, *(row[c] for c in cols), h, now, now))
            counter.add(table, "inserted")
        elif old != h:
            conn.execute(f"UPDATE {table} SET {', '.join(f'{c}=?' for c in cols)}, "
                         f"content_hash=?, updated_at=? WHERE {where}",
                         (*(row[c] for c in cols), h, now, doc_id, *key))
            counter.add(table, "updated")
        else:
            counter.add(table, "unchanged")
    for key in existing:
        conn.execute(f"DELETE FROM {table} WHERE {where}", (doc_id, *key))
        counter.add(table, "deleted")


def upsert_documents(conn: sqlite3.Connection, documents: Iterable[dict[str, Any]],
                     statuses: Optional[dict[str, str]] = None,
                     now: Optional[str] = None) -> dict:
    """Insert or update the rows of these documents (RECORDS.md dicts); one transaction.

    Returns counts ``{"inserted", "updated", "unchanged", "deleted", "tables": {...}}``.
    ``statuses`` maps doc_id -> ok/partial for the documents table's ``status`` column.
    """
    statuses = statuses or {}
    writer = TrackingWriter(conn, now=now, batch=None)
    with conn:
        for doc in documents:
            writer.add(doc, statuses.get(doc["doc_id"]), commit=False)
    return writer.summary()


class TrackingWriter:
    """The upsert of :func:`upsert_documents` one document at a time, for a run that streams
    its records: ``add(doc, status)`` writes the rows of one document and commits every
    ``batch`` documents (``None``: the caller commits); ``finish()`` commits the rest and
    returns the counts.  A run killed half-way leaves whole batches; the next run's upsert
    puts every row right again."""

    def __init__(self, conn: sqlite3.Connection, now: Optional[str] = None, batch: Optional[int] = 200):
        self.conn = conn
        self.now = now or datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.batch = batch
        self.counter = _Counter()
        self._pending = 0

    def add(self, doc: dict[str, Any], status: Optional[str] = None, commit: bool = True) -> None:
        try:
            _upsert_one(self.conn, doc, status, self.now, self.counter)
        except BaseException:
            if commit:
                self.conn.rollback()
            raise
        self._pending += 1
        if commit and self.batch and self._pending >= self.batch:
            self.conn.commit()
            self._pending = 0

    def finish(self) -> dict:
        self.conn.commit()
        self._pending = 0
        return self.summary()

    def summary(self) -> dict:
        return self.counter.summary()


def _upsert_one(conn: sqlite3.Connection, doc: dict[str, Any], status: Optional[str], now: str,
                counter: _Counter) -> None:
    doc_id = doc["doc_id"]
    # a source whose bytes changed: its old document goes, with its tasks and duties
    for (old_id,) in conn.execute("SELECT doc_id FROM documents WHERE source=? AND doc_id<>?",
                                  (doc.get("source"), doc_id)).fetchall():
        _delete_document(conn, old_id, counter)
    row = document_row(doc, status)
    h = _hash(row[c] for c in DOCUMENT_COLUMNS)
    old = conn.execute("SELECT content_hash FROM documents WHERE doc_id=?", (doc_id,)).fetchone()
    if old is None:
        conn.execute(
            f"INSERT INTO documents (doc_id, {', '.join(DOCUMENT_COLUMNS)}, content_hash, "
            f"created_at, updated_at) VALUES ({', '.join('?' * (len(DOCUMENT_COLUMNS) + 4))})",
            (doc_id, *(row[c] for c in DOCUMENT_COLUMNS), h, now, now))
        counter.add("documents", "inserted")
    elif old[0] != h:
        conn.execute(f"UPDATE documents SET {', '.join(f'{c}=?' for c in DOCUMENT_COLUMNS)}, "
                     f"content_hash=?, updated_at=? WHERE doc_id=?",
                     (*(row[c] for c in DOCUMENT_COLUMNS), h, now, doc_id))
        counter.add("documents", "updated")
    else:
        counter.add("documents", "unchanged")
    _sync_children(conn, "tasks", ["task_id"], TASK_COLUMNS, doc_id,
                   {(k,): v for k, v in task_rows(doc).items()}, now, counter)
    _sync_children(conn, "duties", ["task_id", "agency_key", "role"], DUTY_COLUMNS, doc_id,
                   duty_table_rows(doc), now, counter)


def delete_sources(conn: sqlite3.Connection, sources: Iterable[str]) -> int:
    """Remove the rows of these source paths (e.g. a file that now fails to read)."""
    counter = _Counter()
    with conn:
        for source in sources:
            for (doc_id,) in conn.execute("SELECT doc_id FROM documents WHERE source=?",
                                          (source,)).fetchall():
                _delete_document(conn, doc_id, counter)
    return counter.summary()["deleted"]


def db_path(out_dir: str | Path, outputs: dict) -> Optional[Path]:
    """outputs.sqlite in pipeline.yaml: a path (relative to the output folder), or false."""
    setting = (outputs or {}).get("sqlite", True)
    if setting is False:
        return None
    if setting is True or setting is None:
        return Path(out_dir) / DEFAULT_NAME
    path = Path(setting)
    return path if path.is_absolute() else Path(out_dir) / path
