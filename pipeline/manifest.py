"""The resumable-run manifest: OUT/.manifest.sqlite.

One row per finished file, keyed by the SHA-256 of its bytes and the *run key* (the
config digest ``Config.digest()`` and the package version; see :func:`run_key`):
a re-run finds the row and reuses the stored FileResult (document record included)
instead of reading the file again.

The driver records a file right after its documents/<doc_id>.json is written and commits
at once (WAL, synchronous=NORMAL: a committed row survives a SIGKILL of the run), so a
killed run loses at most the files that were in flight.

Re-run policy (``directives run`` on the same inputs and output folder):
- ``ok`` and ``partial`` files are skipped (their stored record is reused);
- ``failed`` files are skipped too (reported again with their stored reason) unless
  ``--retry-failed`` is given;
- ``--force`` redoes every file;
- a file whose bytes changed, or a run with a different pipeline.yaml or package version,
  has a different key and is redone.  Each row also keeps a fingerprint of the extraction
  code (extractors/, normalizers/, runner/stages/model): run.json counts the reused records
  made by other code (``stale_code``) so that a developer knows when to ``--force``.

File hashes are cached by (path, size, mtime, inode) so that a re-run over a large archive
does not read every byte again.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Optional

from pipeline.config import Config
from pipeline.runner import FileResult, file_digest

MANIFEST_NAME = ".manifest.sqlite"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS results (
    sha256      TEXT NOT NULL,
    run_key     TEXT NOT NULL,
    source      TEXT NOT NULL,
    status      TEXT NOT NULL,
    reason      TEXT,
    doc_id      TEXT,
    result      TEXT NOT NULL,      -- FileResult as JSON, document record included
    finished_at REAL NOT NULL,
    code        TEXT,               -- code_fingerprint() of the run that made it
    PRIMARY KEY (sha256, run_key)
);
CREATE TABLE IF NOT EXISTS hashes (
    path     TEXT PRIMARY KEY,
    size     INTEGER NOT NULL,
    mtime_ns INTEGER NOT NULL,
    inode    INTEGER NOT NULL,
    sha256   TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS sources (
    path   TEXT PRIMARY KEY,        -- absolute path of a source file
    doc_id TEXT NOT NULL            -- the doc_id its last run produced
);
CREATE TABLE IF NOT EXISTS runs (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    started_at  REAL NOT NULL,
    finished_at REAL,
    run_key     TEXT NOT NULL,
    files       INTEGER,
    processed   INTEGER,
    skipped     INTEGER,
    counts      TEXT
);
"""

# the modules whose code decides what a document record contains
_CODE_PACKAGES = ("extractors", "normalizers")
_CODE_MODULES = ("pipeline/runner.py", "pipeline/stages.py", "pipeline/model.py",
                 "pipeline/registry.py")


def code_fingerprint() -> str:
    """Hash of the extraction code, so that a resumed run never mixes records of two versions."""
    import pipeline
    base = Path(pipeline.__file__).resolve().parent.parent
    h = hashlib.sha256()
    files: list[Path] = []
    for pkg in _CODE_PACKAGES:
        if (base / pkg).is_dir():
            files.extend(sorted((base / pkg).rglob("*.py")))
    files.extend(base / m for m in _CODE_MODULES if (base / m).exists())
    for f in files:
        h.update(str(f.relative_to(base)).encode())
        h.update(b"\0")
        h.update(f.read_bytes())
    return h.hexdigest()[:16]


def package_version() -> str:
    try:
        from importlib.metadata import version
        return version("directives")
    except Exception:  # not installed (running from a checkout)
        return "0"


def run_key(config: Config, check_code: Optional[bool] = None) -> str:
    """The part of a finished file's key that is not its bytes: the config digest and the
    package version; with ``executor.resume_check_code: true`` also the code fingerprint
    (then any edit of the extractors redoes every file)."""
    if check_code is None:
        check_code = bool(config.executor.get("resume_check_code", False))
    key = f"{config.digest()}-v{package_version()}"
    return f"{key}-{code_fingerprint()}" if check_code else key


def result_to_json(result: FileResult) -> str:
    return json.dumps(dataclasses.asdict(result), ensure_ascii=False)  # key order kept


def result_from_json(text: str) -> FileResult:
    data = json.loads(text)
    fields = {f.name for f in dataclasses.fields(FileResult)}
    return FileResult(**{k: v for k, v in data.items() if k in fields})


class Manifest:
    def __init__(self, path: str | Path):
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.conn = sqlite3.connect(str(self.path), timeout=30)
        self.conn.execute("PRAGMA journal_mode=WAL")
        self.conn.execute("PRAGMA synchronous=NORMAL")
        # a run reads each record once (keyed look-ups): a small page cache keeps the
        # driver's memory flat however many records pass through it
        self.conn.execute("PRAGMA cache_size=-256")
        self.conn.executescript(_SCHEMA)
        columns = {r[1] for r in self.conn.execute("PRAGMA table_info(results)")}
        if "code" not in columns:      # a manifest written before the column existed
            self.conn.execute("ALTER TABLE results ADD COLUMN code TEXT")
        self.conn.commit()

    @classmethod
    def in_folder(cls, out_dir: str | Path) -> "Manifest":
        return cls(Path(out_dir) / MANIFEST_NAME)

    # ---------------------------------------------------------------- file hashes
    def sha256_of(self, path: str | Path) -> str:
        path = Path(path).resolve()
        st = path.stat()
        row = self.conn.execute("SELECT size, mtime_ns, inode, sha256 FROM hashes WHERE path=?",
                                (str(path),)).fetchone()
        if row and row[:3] == (st.st_size, st.st_mtime_ns, st.st_ino):
            return row[3]
        digest = file_digest(path)
        self.conn.execute("INSERT OR REPLACE INTO hashes VALUES (?, ?, ?, ?, ?)",
                          (str(path), st.st_size, st.st_mtime_ns, st.st_ino, digest))
        return digest

    # ---------------------------------------------------------------- results
    def lookup(self, sha256: str, key: str) -> Optional[tuple[FileResult, Optional[str]]]:
        """The stored result of a finished file and the code fingerprint that made it."""
        row = self.conn.execute("SELECT result, code FROM results WHERE sha256=? AND run_key=?",
                                (sha256, key)).fetchone()
        return (result_from_json(row[0]), row[1]) if row else None

    def record(self, result: FileResult, key: str, code: Optional[str] = None) -> None:
        """Store one finished file and commit at once."""
        doc_id = (result.document or {}).get("doc_id")
        self.conn.execute(
            "INSERT OR REPLACE INTO results VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (result.sha256, key, result.source, result.status, result.reason, doc_id,
             result_to_json(result), time.time(), code))
        self.conn.commit()

    def count(self, key: Optional[str] = None) -> int:
        if key is None:
            return self.conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        return self.conn.execute("SELECT COUNT(*) FROM results WHERE run_key=?", (key,)).fetchone()[0]

    # ---------------------------------------------------------------- source -> doc_id
    def set_source(self, path: str | Path, doc_id: str) -> Optional[str]:
        """Remember the doc_id a source path produced; return the previous one if it changed
        and no other source still produces it (its documents/<doc_id>.json is stale)."""
        path = str(Path(path).resolve())
        row = self.conn.execute("SELECT doc_id FROM sources WHERE path=?", (path,)).fetchone()
        if row and row[0] == doc_id:
            return None
        self.conn.execute("INSERT OR REPLACE INTO sources VALUES (?, ?)", (path, doc_id))
        if not row:
            return None
        still_used = self.conn.execute("SELECT 1 FROM sources WHERE doc_id=? LIMIT 1",
                                       (row[0],)).fetchone()
        return None if still_used else row[0]

    # ---------------------------------------------------------------- runs
    def start_run(self, key: str) -> int:
        cur = self.conn.execute("INSERT INTO runs (started_at, run_key) VALUES (?, ?)",
                                (time.time(), key))
        self.conn.commit()
        return cur.lastrowid

    def finish_run(self, run_id: int, files: int, processed: int, skipped: int, counts: dict) -> None:
        self.conn.execute("UPDATE runs SET finished_at=?, files=?, processed=?, skipped=?, counts=? "
                          "WHERE id=?", (time.time(), files, processed, skipped,
                                         json.dumps(counts, sort_keys=True), run_id))
        self.conn.commit()

    def commit(self) -> None:
        self.conn.commit()

    def close(self) -> None:
        self.conn.commit()
        self.conn.close()
