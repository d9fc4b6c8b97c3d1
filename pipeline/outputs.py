"""What a run writes: documents/<doc_id>.json, duties.csv, duties.jsonl, run.json.

Every file is written to a temporary name and renamed into place, so a reader (or a
killed run) never sees a torn file.
"""
from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Iterable

DUTY_COLUMNS = ["doc_id", "source", "doc_type", "number_symbol", "issue_date", "issuer",
                "task_id", "task_text", "agency", "role", "deadline", "page",
                "confidence", "needs_review",
                # added fields (RECORDS.md allows additions): stable ids and the record version
                "duty_id", "task_key", "schema_version"]


def atomic_write_bytes(path: Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, 0o666 & ~_umask())   # mkstemp makes 0600; clerks on a share must read it
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def atomic_write_text(path: Path, text: str, encoding: str = "utf-8") -> None:
    atomic_write_bytes(path, text.encode(encoding))


def to_json(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=False) + "\n"


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
    import pandas as pd
    rows = [row for doc in sorted(documents, key=lambda d: d["source"]) for row in duty_rows(doc)]
    frame = pd.DataFrame(rows, columns=DUTY_COLUMNS)
    atomic_write_text(Path(out_dir) / "duties.csv", frame.to_csv(index=False))
    jsonl = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    atomic_write_text(Path(out_dir) / "duties.jsonl", jsonl)
    return len(rows)
