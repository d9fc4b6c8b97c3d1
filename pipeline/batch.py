"""A run over many files: find the sources, run each, write what they gave."""
from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Iterable, Optional

from pipeline import emitters
from pipeline.config import Config
from pipeline.outputs import atomic_write_text, to_json, write_document, write_duties
from pipeline.runner import FileResult, process_file


def find_sources(paths: Iterable[str | Path]) -> list[tuple[Path, Path]]:
    """(file, root) pairs: a file is its own root's child; a folder is walked recursively."""
    from extractors.sources import SUPPORTED
    found: list[tuple[Path, Path]] = []
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and not f.name.startswith(".") and f.suffix.lower() in SUPPORTED:
                    found.append((f, p))
        else:
            found.append((p, p.parent))
    return found


def run_paths(paths: list[str], out_dir: str | Path, config: Config,
              workers: Optional[int] = None, **options) -> dict:
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: list[FileResult] = []
    for path, root in find_sources(paths):
        result = process_file(path, root, config)
        if result.document is not None:
            write_document(out, result.document)
        results.append(result)
    documents = [r.document for r in results if r.document is not None]
    documents = emitters.before_write(out, documents, config)
    n_duties = write_duties(out, documents)
    report = build_report(results, n_duties, time.perf_counter() - started)
    atomic_write_text(out / "run.json", to_json(report))
    emitters.after_write(out, documents, report, config)
    return report


def build_report(results: list[FileResult], n_duties: int, seconds: float) -> dict:
    counts: dict[str, int] = {}
    stage_time: dict[str, float] = {}
    for r in results:
        counts[r.status] = counts.get(r.status, 0) + 1
        for k, v in r.timings.items():
            stage_time[k] = round(stage_time.get(k, 0.0) + v, 4)
    return {
        "files": len(results),
        "counts": counts,
        "duties": n_duties,
        "seconds": round(seconds, 3),
        "time_per_stage": stage_time,
        "files_detail": [
            {"source": r.source, "status": r.status, "reason": r.reason, "message": r.message,
             "partial_reasons": r.reasons if r.status == "partial" else [],
             "doc_id": (r.document or {}).get("doc_id"),
             "warnings": (r.document or {}).get("warnings", []),
             "seconds": round(sum(r.timings.values()), 4)}
            for r in results
        ],
    }
