"""A run over many files: find the sources, run each on an executor, write what they gave.

The driver (this module) is the only writer of the output folder:

1. hash every input file (cached by path/size/mtime in the manifest) and look it up in the
   manifest (pipeline/manifest.py); finished files are skipped unless ``--force`` (and
   failed ones unless ``--retry-failed``);
2. run the rest on an executor (pipeline/executors.py: local process pool, Dask, inline);
   for each finished file write documents/<doc_id>.json atomically, then record it in the
   manifest and commit: a killed run resumes where it stopped;
3. assemble duties.csv / duties.jsonl from the stored records of *this run's inputs* (never
   appended by workers), upsert the tracking database (pipeline/tracking.py) and write
   run.json, with the emitter hooks around them.  The driver streams: it keeps a slim result
   per file and reads the records back from the manifest one at a time (``iter_records``),
   so its memory does not grow with the archive (docs/batch.md).

A folder is walked recursively.  The output folder itself is left out; files that are not
documents at all (hidden files, system files such as Thumbs.db, data and checksum sidecars
such as manifest.tsv: data/non_documents.yaml) are not read but listed in run.json as
skipped (``skipped_files_detail``, reason ``not_a_document``; a hidden folder is not walked and
is listed once, reason ``hidden_folder``).  Every other file is a source: one of an
unsupported type (.doc, .odt …) ends ``failed/unsupported_type`` so that no letter in an
archive goes unreported, and so does any file named on the command line.
"""
from __future__ import annotations

import contextlib
import dataclasses
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from pipeline import emitters
from pipeline.config import Config
from pipeline.outputs import DutyWriter, to_json, write_document
from pipeline.outputs import write_json as write_json_file
from pipeline.runner import FileResult

SQLITE_CACHE_KIB = 256   # page cache of the manifest and tracking connections (SQLite's default: 2 MiB each)
NOT_A_DOCUMENT = "not_a_document"
HIDDEN_FOLDER = "hidden_folder"


def _is_within(path: Path, folder: Optional[Path]) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder)
        return True
    except ValueError:
        return False


@dataclass(frozen=True)
class NonDocuments:
    """What a folder walk does not read (data/non_documents.yaml)."""
    hidden: bool
    names: frozenset
    extensions: frozenset

    @classmethod
    def load(cls) -> "NonDocuments":
        from extractors.sources import SUPPORTED
        from pipeline.resources import load_data_yaml
        raw = load_data_yaml("non_documents.yaml") or {}
        exts = {"." + str(e).lower().lstrip(".") for e in raw.get("extensions") or []}
        return cls(hidden=bool(raw.get("hidden", True)),
                   names=frozenset(str(n).lower() for n in raw.get("names") or []),
                   extensions=frozenset(exts - set(SUPPORTED)))   # a type we read is always read

    def why(self, path: Path) -> Optional[str]:
        """Why a file met in a walk is not a document (a message), or None if it may be one."""
        name = path.name.lower()
        if name in self.names:
            return f"system file {path.name!r}"
        if self.hidden and path.name.startswith("."):
            return "hidden file"
        if path.suffix.lower() in self.extensions:
            return f"data file ({path.suffix.lower()}), not a document"
        return None


@dataclass(frozen=True)
class Skipped:
    """A file (or a hidden folder) of a walked folder that is not read."""
    path: Path
    root: Path
    reason: str
    message: str


def walk_sources(paths: Iterable[str | Path], exclude: Optional[str | Path] = None
                 ) -> tuple[list[tuple[Path, Path]], list[Skipped]]:
    """(file, root) pairs to read, and what a folder walk leaves out: a file is its own root's
    child and is always read; a folder is walked recursively (sorted), its non-documents
    (:class:`NonDocuments`) and hidden folders are returned apart; the output folder
    ``exclude`` is left out silently."""
    excluded = Path(exclude).resolve() if exclude is not None else None
    rules: Optional[NonDocuments] = None
    found: list[tuple[Path, Path]] = []
    skipped: list[Skipped] = []
    seen: set[Path] = set()
    for p in map(Path, paths):
        if p.is_dir():
            rules = rules or NonDocuments.load()
            hidden_dirs: set[tuple[str, ...]] = set()
            for f in sorted(p.rglob("*")):
                rel = f.relative_to(p)
                if _is_within(f, excluded):
                    continue
                if rules.hidden:
                    inside = next((i for i, part in enumerate(rel.parts[:-1]) if part.startswith(".")), None)
                    if inside is not None:       # in a hidden folder, listed once below
                        hidden_dirs.add(rel.parts[:inside + 1])
                        continue
                    if f.is_dir() and f.name.startswith("."):
                        hidden_dirs.add(rel.parts)
                        continue
                if not f.is_file():
                    continue
                why = rules.why(f)
                if why is not None:
                    skipped.append(Skipped(f, p, NOT_A_DOCUMENT, why))
                elif f.resolve() not in seen:
                    seen.add(f.resolve())
                    found.append((f, p))
            skipped.extend(Skipped(p.joinpath(*parts), p, HIDDEN_FOLDER, "hidden folder, not walked")
                           for parts in sorted(hidden_dirs))
        elif p.resolve() not in seen:
            seen.add(p.resolve())
            found.append((p, p.parent))
    return found, skipped


def find_sources(paths: Iterable[str | Path], exclude: Optional[str | Path] = None
                 ) -> list[tuple[Path, Path]]:
    """(file, root) pairs: a file is its own root's child; a folder is walked recursively
    (without what :func:`walk_sources` leaves out)."""
    return walk_sources(paths, exclude)[0]


@dataclass(slots=True)
class Item:
    """One input file of this run and what became of it."""
    path: Path
    root: Path
    source: str
    sha256: Optional[str] = None
    result: Optional[FileResult] = None
    skipped: bool = False                # reused from the manifest
    duplicate_of: Optional[str] = None   # same bytes as an earlier source of this run


def _reuse(prior: FileResult, source: str) -> FileResult:
    """A stored result for a file that may have been moved or renamed since."""
    if prior.source == source:
        return prior
    result = dataclasses.replace(prior, source=source)
    if prior.document is not None:
        result.document = dict(prior.document, source=source)
    return result


def run_paths(paths: list[str], out_dir: str | Path, config: Config,
              workers: Optional[int] = None, scheduler: Optional[str] = None,
              force: bool = False, retry_failed: bool = False,
              progress: Optional[bool] = None) -> dict:
    """Run every file of ``paths`` into ``out_dir``; returns the run.json report.

    ``progress``: the tqdm bar (None: only when stderr is a terminal)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    with _exclusive(out):
        return _run(paths, out, keep_page_images(config, out), workers, scheduler, force, retry_failed,
                    progress)


def keep_page_images(config: Config, out: Path) -> Config:
    """Scanned pages are kept as read (OUT/pages) so that the review page can show them."""
    stages = [(name, {"keep_images": str(out.resolve() / "pages"), **settings} if name == "ocr" else settings)
              for name, settings in config.stages]
    return dataclasses.replace(config, stages=stages)


@contextlib.contextmanager
def _exclusive(out: Path):
    """One run per output folder at a time (an flock, released even by SIGKILL)."""
    try:
        import fcntl
    except ImportError:          # not POSIX: no lock
        yield
        return
    with open(out / ".run.lock", "a+") as fh:
        try:
            fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise RuntimeError(f"another `directives run` is writing to {out}; "
                               "wait for it or choose another --out") from None
        try:
            yield
        finally:
            fcntl.flock(fh.fileno(), fcntl.LOCK_UN)


def _run(paths, out: Path, config: Config, workers, scheduler, force, retry_failed, progress) -> dict:
    from pipeline.executors import make_executor, source_of
    from pipeline.manifest import Manifest, code_fingerprint, run_key
    from pipeline.progress import Progress

    started = time.perf_counter()
    write_json = config.outputs.get("documents", True) is not False
    manifest = Manifest.in_folder(out)
    key = run_key(config)
    code = code_fingerprint()
    stale_code = 0
    run_id = manifest.start_run(key)

    # ---- 1. what is there, and what is already done
    items: list[Item] = []
    first_of: dict[str, Item] = {}
    todo: list[Item] = []
    sources, not_read = walk_sources(paths, exclude=out)
    skipped_files = sorted(({"source": source_of(x.path, x.root) + ("/" if x.reason == HIDDEN_FOLDER else ""),
                             "reason": x.reason, "message": x.message} for x in not_read),
                           key=lambda e: e["source"])
    del not_read
    for path, root in sources:
        item = Item(path=path, root=root, source=source_of(path, root))
        items.append(item)
        try:
            item.sha256 = manifest.sha256_of(path)
        except FileNotFoundError as exc:
            item.result = FileResult(item.source, "failed", reason="missing_file", message=str(exc))
            continue
        except OSError as exc:
            item.result = FileResult(item.source, "failed", reason="unreadable",
                                     message=f"{type(exc).__name__}: {exc}")
            continue
        if item.sha256 in first_of:
            item.duplicate_of = first_of[item.sha256].source
            continue
        first_of[item.sha256] = item
        found = None if force else manifest.lookup(item.sha256, key)
        if found is not None and not (retry_failed and found[0].status == "failed"):
            item.result, item.skipped = _slim(_reuse(found[0], item.source)), True
            stale_code += found[1] != code
        else:
            todo.append(item)
    manifest.commit()

    # ---- 2. the work
    executor_info: dict[str, Any] = {"kind": "none", "note": "nothing to do: every file was done before"}
    bar = Progress(len(todo), skipped=sum(i.skipped for i in items), enabled=progress)
    worker_crashes = 0
    tasks: list = []
    work_started = time.perf_counter()
    try:
        if todo:
            with make_executor(config, workers, scheduler, n_tasks=len(todo)) as executor:
                executor_info = executor.describe()
                tasks = [(str(i.path), str(i.root)) for i in todo]
                for index, result in executor.run(tasks):
                    item = todo[index]
                    result.sha256 = result.sha256 or item.sha256
                    if result.document is not None and write_json:
                        write_document(out, result.document)
                    manifest.record(result, key, code)     # commits: this file is done
                    item.result = _slim(result)            # the record is read back when needed
                    del result
                    bar.update(item.result.pages, failed=item.result.status == "failed")
                worker_crashes = executor.crashes
                executor_info["document_timeouts"] = executor.timeouts
    except BaseException:
        manifest.close()       # what finished is committed; a re-run resumes from there
        raise
    finally:
        bar.close()
    work_seconds = time.perf_counter() - work_started
    for item in todo:
        if item.result is None:   # an executor that lost a task: report it, never drop it
            item.result = FileResult(item.source, "failed", reason="internal_error",
                                     message="the executor returned no result for this file",
                                     sha256=item.sha256)

    # ---- 3. outputs from the stored records of this run's inputs
    for item in items:
        if item.duplicate_of is not None:
            original = first_of[item.sha256].result
            item.result = dataclasses.replace(
                original, source=item.source, document=None,
                message=(original.message or "") + f" (same content as {item.duplicate_of})"
                if original.status == "failed" else f"same content as {item.duplicate_of}")
    stale: set[str] = set()
    current: set[str] = set()
    for item in items:
        if item.sha256 is None:
            continue
        doc = (first_of[item.sha256] if item.duplicate_of else item).result.document
        if doc is not None:
            current.add(doc["doc_id"])
        old = manifest.set_source(item.path, doc["doc_id"] if doc else "")
        if old:
            stale.add(old)
    manifest.commit()
    for doc_id in stale - current:
        (out / "documents" / f"{doc_id}.json").unlink(missing_ok=True)

    items.sort(key=lambda i: (i.source, str(i.path)))
    results = [i.result for i in items]
    with_record = [i for i in items if i.result.document is not None and i.duplicate_of is None]
    statuses = {i.result.document["doc_id"]: i.result.status for i in with_record}

    # ---- 3b. one pass over the records, one at a time: corrections, duties.csv/jsonl, the
    # tracking database, the review queue and the slim summaries the other outputs need
    streamed = emitters.Streamed(out, config)
    queue = _ReviewQueue()
    tracker = _Tracking(out, config)
    try:
        with DutyWriter(out) as duties:
            for item, document in iter_records(manifest, key, with_record):
                if write_json and item.skipped:
                    _ensure_document(out, document)
                document = streamed.correct(document)
                rows = duties.add(document)
                tracker.add(document, statuses.get(document["doc_id"]))
                queue.add(document, rows)
                streamed.keep(document)
                del document
        streamed.finish_corrections()
        tracking = tracker.finish([i.source for i in items if i.result.status == "failed"])
    except BaseException:
        streamed.close()       # the spooled task list
        raise
    finally:
        tracker.close()
    n_duties = duties.rows
    report = build_report(results, n_duties, time.perf_counter() - started, items=items,
                          executor=executor_info, work_seconds=work_seconds,
                          worker_crashes=worker_crashes, tracking=tracking, stale_code=stale_code,
                          review_queue=queue.summary(), skipped_files=skipped_files)
    write_json_file(out / "run.json", report)
    manifest.finish_run(run_id, report["files"], report["processed"], report["skipped"],
                        report["counts"])
    # what the review page needs to read a record again; the per-file state goes before the
    # emitters run (links, the task list, the review page), so that the driver's peak does not carry it
    by_id = {i.result.document["doc_id"]: (i.sha256, i.source) for i in with_record}
    del items, results, with_record, statuses, first_of, todo, tasks, sources

    def load(doc_id: str) -> dict:
        sha256, source = by_id[doc_id]
        item = Item(path=Path(source), root=Path("."), source=source, sha256=sha256)
        return streamed.recorrect(load_record(manifest, key, item))

    try:
        streamed.after_write(report, load)
    finally:
        manifest.close()
    return report


def _slim(result: FileResult) -> FileResult:
    """A result without its record: the driver keeps this for every file (run.json needs the
    doc_id and the warnings) and reads the record back from the manifest when it needs it."""
    if result.document is None:
        return result
    doc = result.document
    return dataclasses.replace(result, document={"doc_id": doc["doc_id"],
                                                 "warnings": doc.get("warnings", [])})


def load_record(manifest, key: str, item: Item) -> dict:
    """The full record of one input of this run, read back from the manifest (where the
    driver stored it when the file finished, or an earlier run did), with this run's source."""
    found = manifest.lookup(item.sha256, key)
    if found is None or found[0].document is None:
        raise RuntimeError(f"{item.source}: its record is not in the manifest")
    return _reuse(found[0], item.source).document


def iter_records(manifest, key: str, items: Iterable[Item]) -> Iterator[tuple[Item, dict]]:
    """(item, record) for these items, in order, one record in memory at a time: each is
    loaded when asked for and dropped by the caller before the next."""
    for item in items:
        yield item, load_record(manifest, key, item)


class _ReviewQueue:
    """run.json ``review_queue``, counted one document at a time."""

    def __init__(self):
        self.duties = self.flagged = self.warned = self.either = 0

    def add(self, doc: dict, rows: list[dict]) -> None:
        """``rows``: the document's duty rows (as duties.csv has them)."""
        self.duties += sum(1 for row in rows if row["needs_review"])
        self.flagged += bool(doc.get("needs_review"))
        self.warned += bool(doc.get("warnings"))
        self.either += bool(doc.get("needs_review") or doc.get("warnings"))

    def summary(self) -> dict:
        return {"duties_needs_review": self.duties, "documents_needs_review": self.flagged,
                "documents_with_warnings": self.warned, "total": self.duties + self.either}


class _Tracking:
    """The tracking database upsert of a streaming run: one document at a time, a commit
    every ``BATCH`` documents, then the rows of the sources that failed are removed."""
    BATCH = 200

    def __init__(self, out: Path, config: Config):
        from pipeline.tracking import TrackingWriter, db_path, open_db
        self.path = db_path(out, config.outputs)
        self.conn = open_db(self.path) if self.path is not None else None
        if self.conn is not None:   # rows are written once, one document at a time: a small cache
            self.conn.execute(f"PRAGMA cache_size=-{SQLITE_CACHE_KIB}")
        self.writer = TrackingWriter(self.conn, batch=self.BATCH) if self.conn is not None else None

    def add(self, doc: dict, status: Optional[str]) -> None:
        if self.writer is not None:
            self.writer.add(doc, status)

    def finish(self, failed_sources: list[str]) -> Optional[dict]:
        if self.writer is None:
            return None
        from pipeline.tracking import delete_sources
        counts = self.writer.finish()
        counts["deleted"] += delete_sources(self.conn, failed_sources)
        counts["path"] = str(self.path)
        return counts

    def close(self) -> None:
        if self.conn is not None:
            self.conn.close()
            self.conn = None


def _ensure_document(out: Path, document: dict) -> None:
    """documents/<doc_id>.json of a resumed file: (re)write it only if missing or different."""
    path = out / "documents" / f"{document['doc_id']}.json"
    text = to_json(document)
    try:
        if path.read_text(encoding="utf-8") == text:
            return
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    write_document(out, document)


def build_report(results: list[FileResult], n_duties: int, seconds: float,
                 items: Optional[list[Item]] = None,
                 executor: Optional[dict] = None, work_seconds: Optional[float] = None,
                 worker_crashes: int = 0, tracking: Optional[dict] = None,
                 stale_code: int = 0, review_queue: Optional[dict] = None,
                 skipped_files: Optional[list[dict]] = None) -> dict:
    """run.json.  Timings (time_per_stage, slowest) are what each record cost to produce,
    including records reused from earlier runs; docs_per_s / pages_per_s are this run's work.
    ``skipped_files``: what a folder walk did not read ({source, reason, message}; they are
    not among ``files`` and never fail a run)."""
    if not items or len(items) != len(results):
        items = [Item(path=Path(r.source), root=Path("."), source=r.source, sha256=r.sha256,
                      result=r) for r in results]
    counts: dict[str, int] = {}
    reasons: dict[str, int] = {}
    stage_time: dict[str, float] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
        if r.status == "failed":
            reasons[r.reason or "unknown"] = reasons.get(r.reason or "unknown", 0) + 1
        for k, v in r.timings.items():
            stage_time[k] = round(stage_time.get(k, 0.0) + v, 4)
    fresh = [r for r, i in zip(results, items)
             if not i.skipped and i.duplicate_of is None and i.sha256 is not None]
    work = work_seconds if work_seconds else seconds
    pages_fresh = sum(r.pages for r in fresh)
    slowest = sorted((r for r in results if r.timings), key=lambda r: -sum(r.timings.values()))[:10]
    return {
        "files": len(results),
        "skipped_files": len(skipped_files or []),
        "counts": counts,
        "failed_reasons": reasons,
        "processed": len(fresh),
        "skipped": sum(i.skipped for i in items),
        "duplicates": sum(i.duplicate_of is not None for i in items),
        "stale_code": stale_code,
        "duties": n_duties,
        "pages": sum(r.pages for r in results),
        "pages_ocr": sum(r.pages_ocr for r in results),
        "pages_ocr_this_run": sum(r.pages_ocr for r in fresh),
        "seconds": round(seconds, 3),
        "docs_per_s": round(len(fresh) / work, 3) if fresh and work > 0 else None,
        "pages_per_s": round(pages_fresh / work, 3) if fresh and work > 0 else None,
        "time_per_stage": stage_time,
        "slowest": [{"source": r.source, "seconds": round(sum(r.timings.values()), 3),
                     "pages": r.pages, "status": r.status} for r in slowest],
        "review_queue": review_queue,
        "executor": dict(executor or {}, worker_crashes=worker_crashes),
        "tracking": tracking,
        "files_detail": [
            {"source": r.source, "status": r.status, "reason": r.reason, "message": r.message,
             "partial_reasons": r.reasons if r.status == "partial" else [],
             "doc_id": (r.document or {}).get("doc_id"),
             "warnings": (r.document or {}).get("warnings", []),
             "pages": r.pages, "pages_ocr": r.pages_ocr,
             "skipped": i.skipped, "duplicate_of": i.duplicate_of,
             "seconds": round(sum(r.timings.values()), 4)}
            for r, i in zip(results, items)
        ],
        "skipped_files_detail": list(skipped_files or []),
    }
