"""What a run writes: documents/<doc_id>.json, duties.csv, duties.jsonl, run.json.

Every file is written to a temporary name and renamed into place, so a reader (or a
killed run) never sees a torn file.
"""
from __future__ import annotations

import contextlib
import csv
import json
import math
import os
import tempfile
from pathlib import Path
from typing import IO, Any, Callable, Iterable, Iterator, Optional

DUTY_COLUMNS = ["doc_id", "source", "doc_type", "number_symbol", "issue_date", "issuer",
                "task_id", "task_text", "agency", "role", "deadline", "page",
                "confidence", "needs_review",
                # added fields (RECORDS.md allows additions): stable ids and the record version
                "duty_id", "task_key", "schema_version"]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    with atomic_writer(path, "wb") as fh:
        fh.write(data)


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))


def to_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


def write_json(path: Path, obj: Any) -> None:
    """``to_json(obj)`` written atomically piece by piece (the same bytes, without building the
    whole text in memory: run.json of a large archive has one entry per file)."""
    with atomic_writer(path) as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2, sort_keys=False)
        fh.write("\n")


# pieces of a JSON file written as ``to_json`` writes the whole, one item at a time (links.json
# and nhiem_vu.index.json are written from temporary databases, never held whole)

def json_at(value: Any, level: int) -> str:
    """``value`` as ``to_json`` writes it at nesting ``level``."""
    return json.dumps(value, ensure_ascii=False, indent=2).replace("\n", "\n" + "  " * level)


def write_json_array(fh, items: Iterable[Any], level: int) -> None:
    """A list at nesting ``level``, item by item."""
    pad = "\n" + "  " * (level + 1)
    first = True
    for item in items:
        fh.write(("[" if first else ",") + pad + json_at(item, level + 1))
        first = False
    fh.write("[]" if first else "\n" + "  " * level + "]")


def write_json_object(fh, pairs: Iterable[tuple[str, str]], level: int) -> None:
    """An object at nesting ``level`` from (key, JSON text of the value) pairs, pair by pair."""
    pad = "\n" + "  " * (level + 1)
    first = True
    for key, value in pairs:
        fh.write(("{" if first else ",") + pad + json.dumps(key, ensure_ascii=False) + ": "
                 + json_at(json.loads(value), level + 1))
        first = False
    fh.write("{}" if first else "\n" + "  " * level + "}")


def duty_rows(document: dict[str, Any]) -> list[dict[str, Any]]:
    """One flat row per task × agency (RECORDS.md, Duty)."""
    from pipeline.ids import duty_id, task_key
    from pipeline.model import SCHEMA_VERSION
    rows = []
    for task in document.get("tasks", []):
        for agency in task.get("agencies", []):
            needs_review = bool(agency.get("needs_review") or task.get("needs_review"))
            rows.append({
                "doc_id": document["doc_id"],
                "source": document["source"],
                "doc_type": document.get("doc_type"),
                "number_symbol": document.get("number_symbol"),
                "issue_date": document.get("issue_date"),
                "issuer": document.get("issuer"),
                "task_id": task["id"],
                "task_text": task.get("text", ""),
                "agency": agency["name"],
                "role": agency["role"],
                "deadline": agency.get("deadline", task.get("deadline")),  # a clerk may set one per duty
                "page": task.get("page"),
                "confidence": agency.get("confidence", 0.5 if needs_review else 0.9),
                "needs_review": needs_review,
                "duty_id": agency.get("duty_id") or duty_id(document["doc_id"], task["id"], agency["name"],
                                                            agency["role"]),
                "task_key": task_key(document["doc_id"], task["id"]),
                "schema_version": document.get("schema_version", SCHEMA_VERSION),
            })
    return rows


def write_document(out_dir: Path, document: dict[str, Any]) -> Path:
    path = Path(out_dir) / "documents" / f"{document['doc_id']}.json"
    atomic_write_text(path, to_json(document))
    return path


def write_duties(out_dir: Path, documents: Iterable[dict[str, Any]]) -> int:
    """duties.csv and duties.jsonl of these documents (sorted by source); returns the row count."""
    with DutyWriter(out_dir) as writer:
        for doc in sorted(documents, key=lambda d: d["source"]):
            writer.add(doc)
    return writer.rows


@contextlib.contextmanager
def atomic_writer(path: Path, mode: str = "w", encoding: Optional[str] = "utf-8") -> Iterator[IO]:
    """A file handle on a temporary file next to ``path``, renamed into place (after fsync)
    when the block ends without an exception and removed otherwise: written piece by piece,
    the file appears whole or not at all."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, mode, encoding=None if "b" in mode else encoding,
                       newline=None if "b" in mode else "") as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


class DutyWriter:
    """duties.jsonl and duties.csv written one document at a time (the caller gives them in
    source order), so that a run never holds every duty row.

    The rows go to a temporary duties.jsonl as they come; the types seen in each column are
    kept, and at the end the CSV is written from the temporary JSONL with each column
    formatted the way pandas' ``DataFrame(rows).to_csv(index=False)`` formats it (an int
    column with a gap is a float column: ``3.0``; see :func:`_csv_formatter`), so the bytes
    are those of the former all-in-memory writer.  Both files are renamed into place only
    when ``close()`` is reached without an error."""

    def __init__(self, out_dir: Path):
        self.out = Path(out_dir)
        self.out.mkdir(parents=True, exist_ok=True)
        self.rows = 0
        self._types: dict[str, set] = {c: set() for c in DUTY_COLUMNS}
        fd, self._jsonl_tmp = tempfile.mkstemp(dir=self.out, prefix=".duties.jsonl.", suffix=".tmp")
        self._jsonl = os.fdopen(fd, "w", encoding="utf-8", newline="")
        self._closed = False

    def __enter__(self) -> "DutyWriter":
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def add(self, document: dict[str, Any]) -> list[dict[str, Any]]:
        """Write one document's duty rows; returns them."""
        rows = duty_rows(document)
        write = self._jsonl.write
        types = self._types
        for r in rows:
            for c in DUTY_COLUMNS:
                types[c].add(type(r.get(c)))
            write(json.dumps(r, ensure_ascii=False) + "\n")
        self.rows += len(rows)
        return rows

    def close(self) -> int:
        if self._closed:
            return self.rows
        self._closed = True
        try:
            self._jsonl.flush()
            os.fsync(self._jsonl.fileno())
            self._jsonl.close()
            formats = [_csv_formatter(self._types[c]) for c in DUTY_COLUMNS]
            with atomic_writer(self.out / "duties.csv") as fh:
                writer = csv.writer(fh, lineterminator="\n")
                writer.writerow(DUTY_COLUMNS)
                with open(self._jsonl_tmp, encoding="utf-8") as src:
                    for line in src:
                        row = json.loads(line)
                        writer.writerow([f(row.get(c)) for f, c in zip(formats, DUTY_COLUMNS)])
            os.chmod(self._jsonl_tmp, 0o666 & ~_umask())
            os.replace(self._jsonl_tmp, self.out / "duties.jsonl")
        except BaseException:
            self._unlink()
            raise
        return self.rows

    def abort(self) -> None:
        if not self._closed:
            self._closed = True
            self._jsonl.close()
        self._unlink()

    def _unlink(self) -> None:
        try:
            os.unlink(self._jsonl_tmp)
        except FileNotFoundError:
            pass


def _is_nan(v: Any) -> bool:
    return isinstance(v, float) and math.isnan(v)


def _csv_formatter(types: set) -> Callable[[Any], Any]:
    """How pandas writes a column whose values have these Python types (DataFrame from a list
    of dicts, then ``to_csv``): ints only -> int64; ints/floats with None -> float64
    (``3.0``, None -> empty); bools only -> ``True``/``False``; anything else -> object
    (``str(value)``, None -> empty)."""
    kinds = set(types)
    kinds.discard(type(None))
    has_none = type(None) in types
    if kinds == {int} and not has_none:
        return lambda v: str(v)
    if kinds and kinds <= {int, float}:
        return lambda v: "" if v is None or _is_nan(v) else repr(float(v))
    if kinds == {bool} and not has_none:
        return lambda v: str(v)
    return lambda v: "" if v is None or _is_nan(v) else (v if isinstance(v, str) else str(v))


class Spool:
    """A private temporary SQLite database on disk (deleted by SQLite when it is closed, at
    once on POSIX) for an output that is assembled from all documents but must not be held
    in memory: the task list, links.json.  ``schema`` is the SQL that creates its tables."""

    CACHE_KIB = 256

    def __init__(self, schema: str):
        import sqlite3
        self.db = sqlite3.connect("")    # "": a private temporary on-disk database
        for pragma in (f"cache_size=-{self.CACHE_KIB}", "temp_store=FILE", "journal_mode=OFF",
                       "synchronous=OFF"):
            self.db.execute(f"PRAGMA {pragma}")
        self.db.executescript(schema)

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        if self.db is not None:
            self.db.close()
            self.db = None
