"""A clerk's corrections: read from the edited task list, stored by stable row id in the
tracking database (table ``corrections`` of OUT/directives.sqlite), and applied to every
later run before its outputs are written (pipeline/emitters.py).

Kinds of correction, one row each in the table:

- ``update``: a duty the pipeline extracted, with the clerk's agency, role, deadline, a
  "checked" mark (the clerk cleared ``Cần kiểm tra``) or a note; keyed by its row id;
- ``delete``: a duty the clerk removed; keyed by its row id;
- ``add``: a duty the clerk added (empty ``Mã dòng``, document and task given); keyed by
  the id the duty gets from the clerk's values;
- ``document``: the clerk's number and symbol, date, issuer or subject of a letter; keyed
  by ``doc_id``.

Each correction keeps what the pipeline had extracted when the clerk decided
(``extracted``). A later run that extracts something else for a corrected row keeps the
clerk's value and reports a conflict (OUT/corrections_report.json and the return value
of ``apply_corrections``).
"""
from __future__ import annotations

import copy
import datetime as dt
import json
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterable, Optional

from pipeline import clerk, ids

DB_NAME = "directives.sqlite"
REPORT_NAME = "corrections_report.json"

SCHEMA = """
CREATE TABLE IF NOT EXISTS corrections (
    row_id      TEXT PRIMARY KEY,
    kind        TEXT NOT NULL CHECK (kind IN ('update', 'delete', 'add', 'document')),
    doc_id      TEXT NOT NULL,
    task_id     TEXT,
    fields      TEXT NOT NULL,
    extracted   TEXT,
    note        TEXT,
    source_file TEXT,
    created_at  TEXT NOT NULL,
    updated_at  TEXT NOT NULL
)
"""


# ---------------------------------------------------------------- storage

def db_path(out_dir: Path, outputs: Optional[dict] = None) -> Path:
    """The tracking database of pipeline.yaml ``outputs.sqlite`` (default OUT/directives.sqlite).
    With the tracking database turned off, the corrections still live in OUT/directives.sqlite."""
    try:
        from pipeline.tracking import db_path as tracking_path
        path = tracking_path(out_dir, outputs or {})
    except ImportError:
        path = None
    return Path(path) if path is not None else Path(out_dir) / DB_NAME


def connect(out_dir: Path, outputs: Optional[dict] = None) -> sqlite3.Connection:
    """The tracking database (through pipeline.tracking when it exists) with the corrections table."""
    path = db_path(out_dir, outputs)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = None
    try:
        from pipeline.tracking import open_db  # owned by the tracking module
        conn = open_db(path)
    except ImportError:
        conn = None
    if not isinstance(conn, sqlite3.Connection):
        conn = sqlite3.connect(path, timeout=30)
    conn.execute(SCHEMA)
    conn.commit()
    return conn


def load(out_dir: Path, outputs: Optional[dict] = None) -> dict[str, dict[str, Any]]:
    """Stored corrections by row id ({} when there is no database yet)."""
    path = db_path(out_dir, outputs)
    if not path.exists():
        return {}
    conn = sqlite3.connect(path, timeout=30)
    try:
        has = conn.execute("SELECT 1 FROM sqlite_master WHERE type='table' AND name='corrections'").fetchone()
        if not has:
            return {}
        rows = conn.execute("SELECT row_id, kind, doc_id, task_id, fields, extracted, note, source_file, "
                            "created_at, updated_at FROM corrections ORDER BY created_at, row_id").fetchall()
    finally:
        conn.close()
    return {r[0]: {"row_id": r[0], "kind": r[1], "doc_id": r[2], "task_id": r[3], "fields": json.loads(r[4]),
                   "extracted": json.loads(r[5]) if r[5] else None, "note": r[6], "source_file": r[7],
                   "created_at": r[8], "updated_at": r[9]} for r in rows}


def store(out_dir: Path, changes: list[dict[str, Any]], removals: Iterable[str] = (),
          outputs: Optional[dict] = None) -> None:
    now = dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds")
    conn = connect(out_dir, outputs)
    try:
        with conn:
            for row_id in removals:
                conn.execute("DELETE FROM corrections WHERE row_id = ?", (row_id,))
            for c in changes:
                conn.execute(
                    "INSERT INTO corrections (row_id, kind, doc_id, task_id, fields, extracted, note, source_file,"
                    " created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?) ON CONFLICT(row_id) DO UPDATE SET"
                    " kind=excluded.kind, doc_id=excluded.doc_id, task_id=excluded.task_id, fields=excluded.fields,"
                    " extracted=COALESCE(corrections.extracted, excluded.extracted), note=excluded.note,"
                    " source_file=excluded.source_file, updated_at=excluded.updated_at",
                    (c["row_id"], c["kind"], c["doc_id"], c.get("task_id"),
                     json.dumps(c.get("fields") or {}, ensure_ascii=False),
                     json.dumps(c["extracted"], ensure_ascii=False) if c.get("extracted") is not None else None,
                     c.get("note"), c.get("source_file"), now, now))
    finally:
        conn.close()


# ---------------------------------------------------------------- applying to documents

def assign_duty_ids(documents: list[dict]) -> None:
    """Give each extracted agency its stable ``duty_id`` (kept when already there)."""
    for doc in documents:
        for task in doc.get("tasks") or []:
            seen: set[str] = set()
            for ag in task.get("agencies") or []:
                if not ag.get("duty_id"):
                    base = ids.duty_id(doc["doc_id"], task["id"], ag.get("name") or "", ag.get("role") or "")
                    value, n = base, 1
                    while value in seen:      # the same agency twice in one task: keep both apart
                        n += 1
                        value = f"{base}~{n}"
                    ag["duty_id"] = value
                seen.add(ag["duty_id"])


def _split_number_symbol(ns: Optional[str]) -> tuple[Optional[str], Optional[str]]:
    if not ns:
        return None, None
    m = re.match(r"^(\d+[A-Za-z]?)[/\-](.+)$", ns)
    return (m.group(1), m.group(2)) if m else (None, ns)


def _deadline_of(task: dict, ag: dict) -> Optional[str]:
    return ag["deadline"] if "deadline" in ag else task.get("deadline")


def apply_stored(documents: list[dict[str, Any]], corrections: dict[str, dict[str, Any]]
                 ) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """Documents with the clerk's corrections applied, and a report of what happened.

    A corrected document is a copy; the others are the same objects, with ``duty_id`` added."""
    applier = Applier(corrections)
    docs = [applier.apply(d) for d in documents]
    return docs, applier.finish()


class Applier:
    """:func:`apply_stored` one document at a time, for a run that streams its records:
    ``apply(doc)`` returns the corrected document (a copy when a correction touches it)
    and adds to the report; ``finish()`` returns the report (the same as apply_stored's for
    the same documents in the same order).  ``apply(doc, report=False)`` applies again
    without counting (a second pass over the same records)."""

    def __init__(self, corrections: dict[str, dict[str, Any]]):
        self.corrections = corrections
        self.by_doc: dict[str, list[dict]] = {}
        for c in corrections.values():
            self.by_doc.setdefault(c["doc_id"], []).append(c)
        self.report: dict[str, Any] = _new_report(len(corrections))
        self.present: set[str] = set()

    def apply(self, doc: dict[str, Any], report: bool = True) -> dict[str, Any]:
        cs = self.by_doc.get(doc.get("doc_id"))
        if cs:
            doc = copy.deepcopy(doc)
        assign_duty_ids([doc])
        rep = self.report if report else _new_report(len(self.corrections))
        if report:
            self.present.add(doc["doc_id"])
        for c in cs or ():
            if c["kind"] == "document":
                _apply_document(doc, c, rep)
        _apply_tasks(doc, [c for c in cs or () if c["kind"] != "document"], rep)
        return doc

    def finish(self) -> dict[str, Any]:
        self.report["not_in_run"] = sum(1 for c in self.corrections.values() if c["doc_id"] not in self.present)
        return self.report


def _new_report(stored: int) -> dict[str, Any]:
    return {"stored": stored, "applied": 0, "conflicts": [], "resolved": [], "not_applied": []}


def _conflict(report: dict, c: dict, field: str, clerk_value: Any, extracted_then: Any, extracted_now: Any,
              kind: str = "changed") -> dict:
    entry = {"row_id": c["row_id"], "doc_id": c["doc_id"], "task_id": c.get("task_id"), "kind": kind,
             "field": field, "clerk_value": clerk_value, "extracted_when_corrected": extracted_then,
             "extracted_now": extracted_now, "kept": "clerk"}
    report["conflicts"].append(entry)
    return entry


def _apply_document(doc: dict, c: dict, report: dict) -> None:
    then = c.get("extracted") or {}
    applied = {}
    for field, value in (c.get("fields") or {}).items():
        now = doc.get(field)
        if field in then and now != then[field] and now != value:
            _conflict(report, c, field, value, then[field], now)
        elif now == value and then.get(field) != value:
            report["resolved"].append({"row_id": c["row_id"], "field": field, "value": value,
                                       "reason": "the pipeline now reads the clerk's value"})
        applied[field] = {"value": value, "extracted": now}
        doc[field] = value
        if field == "number_symbol":
            doc["number"], doc["symbol"] = _split_number_symbol(value)
        if field == "issue_date" and value:
            doc["warnings"] = [w for w in doc.get("warnings") or [] if w.get("code") != "invalid_date"]
        if field in (doc.get("needs_review") or []):
            doc["needs_review"] = [f for f in doc["needs_review"] if f != field]
    doc.setdefault("clerk_fields", {}).update(applied)
    report["applied"] += 1


def _find_task(doc: dict, task_id: str, c: dict, report: dict) -> dict:
    for t in doc.get("tasks") or []:
        if t["id"] == task_id:
            return t
    task = {"id": task_id, "title": None, "text": (c.get("fields") or {}).get("task_text") or "",
            "agencies": [], "deadline": None, "page": None, "needs_review": False}
    doc.setdefault("tasks", []).append(task)
    report["conflicts"].append({"row_id": c["row_id"], "doc_id": c["doc_id"], "task_id": task_id,
                                "kind": "task_missing", "field": "task", "clerk_value": task_id,
                                "extracted_when_corrected": task_id, "extracted_now": None, "kept": "clerk"})
    return task


def _mark(ag: dict, c: dict, conflicts: list[dict]) -> None:
    fields = c.get("fields") or {}
    ag["clerk"] = {"kind": c["kind"], "reviewed": True, "note": c.get("note"),
                   "extracted": c.get("extracted"), "conflicts": conflicts}
    ag["needs_review"] = bool(conflicts)
    ag["confidence"] = 1.0 if not conflicts else 0.5
    if "deadline" in fields:
        ag["deadline"] = fields["deadline"]


def _apply_tasks(doc: dict, cs: list[dict], report: dict) -> None:
    if not cs:
        return
    index = {}
    for t in doc.get("tasks") or []:
        for ag in t.get("agencies") or []:
            index[ag["duty_id"]] = (t, ag)
    touched_tasks = set()
    for c in cs:
        fields = c.get("fields") or {}
        then = c.get("extracted") or {}
        hit = index.get(c["row_id"])
        if c["kind"] == "delete":
            if hit:
                t, ag = hit
                t["agencies"] = [a for a in t["agencies"] if a is not ag]
                report["applied"] += 1
            else:
                report["resolved"].append({"row_id": c["row_id"], "reason": "deleted row no longer extracted"})
            continue
        if c["kind"] == "update" and hit:
            t, ag = hit
            conflicts = []
            now = {"agency": ag.get("name"), "role": ag.get("role"), "deadline": _deadline_of(t, ag)}
            for f in ("agency", "role", "deadline"):
                if f in fields and f in then and now[f] != then[f] and now[f] != fields[f]:
                    conflicts.append(_conflict(report, c, f, fields[f], then[f], now[f]))
            if "agency" in fields:
                ag["name"] = fields["agency"]
            if "role" in fields:
                ag["role"] = fields["role"]
            _mark(ag, c, conflicts)
            touched_tasks.add(id(t))
            report["applied"] += 1
            continue
        # an added row, or a corrected row the pipeline no longer extracts: the clerk's row stays
        task = _find_task(doc, c.get("task_id") or "", c, report)
        name, role = fields.get("agency") or then.get("agency"), fields.get("role") or then.get("role")
        if not name or role not in ids.ROLES:
            report["not_applied"].append({"row_id": c["row_id"], "reason": "no agency or role"})
            continue
        same = [a for a in task["agencies"]
                if ids.agency_key(a["name"]) == ids.agency_key(name) and a["role"] == role]
        conflicts = []
        if c["kind"] == "update":
            extracted_now = [f"{a['name']} ({a['role']})" for a in task["agencies"]]
            if not same:
                conflicts.append(_conflict(report, c, "row", f"{name} ({role})",
                                           f"{then.get('agency')} ({then.get('role')})",
                                           extracted_now, kind="no_longer_extracted"))
        ag = same[0] if same else {"name": name, "role": role, "needs_review": False}
        if same:
            report["resolved"].append({"row_id": c["row_id"], "reason": "the pipeline now extracts the clerk's row",
                                       "extracted_id": ag.get("duty_id")})
        else:
            task["agencies"].append(ag)
        ag["duty_id"] = c["row_id"]
        _mark(ag, c, conflicts)
        touched_tasks.add(id(task))
        report["applied"] += 1
    # a task whose every duty a clerk has checked is no longer in doubt
    for t in doc.get("tasks") or []:
        if id(t) in touched_tasks and t.get("needs_review") and t.get("agencies") \
                and all(a.get("clerk") for a in t["agencies"]):
            t["needs_review"] = False
        # one deadline for a one-duty task: keep the task's deadline in step (duties.csv reads it)
        if id(t) in touched_tasks and len(t.get("agencies") or []) == 1 and "deadline" in t["agencies"][0]:
            t["deadline"] = t["agencies"][0]["deadline"]
        # drop an extracted duplicate of a clerk's row (same agency and role)
        kept, seen = [], {}
        for a in t.get("agencies") or []:
            key = (ids.agency_key(a["name"]), a["role"])
            if key in seen:
                other = seen[key]
                if a.get("clerk") and not other.get("clerk"):
                    kept[kept.index(other)] = a
                    seen[key] = a
                continue
            seen[key] = a
            kept.append(a)
        if id(t) in touched_tasks:
            t["agencies"] = kept


def write_report(out_dir: Path, report: dict) -> None:
    from pipeline.outputs import atomic_write_text, to_json
    atomic_write_text(Path(out_dir) / REPORT_NAME, to_json(report))


# ---------------------------------------------------------------- reading a clerk's file

def diff_task_list(rows: list[dict], shown: dict[str, dict], documents: dict[str, dict],
                   stored: dict[str, dict], source_file: str) -> dict[str, Any]:
    """What the clerk changed: corrections to store, row ids to forget, errors, counts."""
    C = clerk
    changes: list[dict] = []
    removals: list[str] = []
    errors: list[dict] = []
    counts = {"rows_read": len(rows), "updated": 0, "deleted": 0, "added": 0, "document_fields": 0,
              "reverted": 0, "unchanged": 0}
    seen_ids = set()
    doc_changes: dict[str, dict[str, Any]] = {}

    def extracted_of(row_id: str, s: dict) -> dict:
        prev = stored.get(row_id)
        if prev and prev.get("extracted") is not None:
            return prev["extracted"]
        return {"agency": s["agency"], "role": s["role"], "deadline": s.get("deadline")}

    # a row copied with its Mã dòng: the copy that still shows the exported agency and role is
    # the original, the others are new duties of the same task
    by_id: dict[str, list[int]] = {}
    for i, row in enumerate(rows):
        rid_ = str(row.get(C.COL_ROW_ID) or "").strip()
        if rid_ in shown:
            by_id.setdefault(rid_, []).append(i)
    copies: set[int] = set()
    for rid_, idx in by_id.items():
        if len(idx) > 1:
            s0 = shown[rid_]
            same = [i for i in idx if C.parse_role(rows[i].get(C.COL_ROLE)) == s0["role"]
                    and re.sub(r"\s+", " ", str(rows[i].get(C.COL_AGENCY) or "")).strip() == s0["agency"]]
            original = same[0] if same else idx[0]
            copies.update(i for i in idx if i != original)

    for i_row, row in enumerate(rows):
        n = i_row + 2
        row_id = str(row.get(C.COL_ROW_ID) or "").strip()
        role = C.parse_role(row.get(C.COL_ROLE))
        agency = re.sub(r"\s+", " ", str(row.get(C.COL_AGENCY) or "")).strip()
        deadline, ok_deadline = C.parse_date(row.get(C.COL_DEADLINE), allow_recurrence=True)
        if C.COL_DEADLINE not in row and row_id in shown:     # a column the clerk removed changes nothing
            deadline, ok_deadline = shown[row_id].get("deadline"), True
        problems = []
        if not agency:
            problems.append("Cơ quan thực hiện trống")
        if role is None:
            problems.append(f"Vai trò không rõ: {row.get(C.COL_ROLE)!r}")
        if not ok_deadline:
            problems.append(f"Thời hạn không rõ: {row.get(C.COL_DEADLINE)!r}")
        copied_from = None
        if i_row in copies:
            # a copied row whose Mã dòng the clerk did not clear: a new duty of the same task
            copied_from, row_id = shown[row_id], ""
        if row_id:
            s = shown.get(row_id)
            if s is None:
                errors.append({"line": n, "row_id": row_id, "error": "Mã dòng không có trong danh sách đã xuất"})
                continue
            seen_ids.add(row_id)
            if problems:
                errors.append({"line": n, "row_id": row_id, "error": "; ".join(problems)})
                continue
            _collect_doc_changes(row, s, doc_changes, errors, n)
            fields: dict[str, Any] = {}
            prev = stored.get(row_id)
            if prev and prev["kind"] in ("update", "add"):
                fields.update(prev.get("fields") or {})
            if agency != s["agency"]:
                fields["agency"] = agency
            if role != s["role"]:
                fields["role"] = role
            if deadline != s.get("deadline"):
                fields["deadline"] = deadline
            # a column the clerk removed changes nothing
            reviewed = not str(row.get(C.COL_REVIEW) or "").strip() if C.COL_REVIEW in row else s.get("reviewed")
            if reviewed and not s.get("reviewed"):
                fields["reviewed"] = True
            note = (C.split_note(row.get(C.COL_NOTE), s.get("generated_notes") or []) if C.COL_NOTE in row
                    else s.get("note") or None)
            changed_here = (agency != s["agency"] or role != s["role"] or deadline != s.get("deadline")
                            or (reviewed and not s.get("reviewed")) or note != (s.get("note") or None))
            if not changed_here:
                counts["unchanged"] += 1
                continue
            ext = extracted_of(row_id, s)
            kind = prev["kind"] if prev and prev["kind"] == "add" else "update"
            if kind == "update":
                # forget what equals the extraction: a clerk who puts the old value back reverts
                for f in ("agency", "role", "deadline"):
                    if f in fields and fields[f] == ext.get(f):
                        del fields[f]
                if not fields and not note:
                    removals.append(row_id)
                    counts["reverted"] += 1
                    continue
            changes.append({"row_id": row_id, "kind": kind, "doc_id": s["doc_id"], "task_id": s["task_id"],
                            "fields": fields, "extracted": ext if kind == "update" else None, "note": note,
                            "source_file": source_file})
            counts["updated"] += 1
        else:
            task_id = copied_from["task_id"] if copied_from else C.parse_task_id(row.get(C.COL_TASK))
            doc_id = copied_from["doc_id"] if copied_from else _resolve_doc(row, documents)
            if not task_id:
                problems.append("Nhiệm vụ không có số mục (ví dụ [6.d])")
            if not doc_id:
                problems.append("không xác định được văn bản (Nguồn hoặc Số, ký hiệu)")
            if problems:
                errors.append({"line": n, "row_id": None, "error": "; ".join(problems)})
                continue
            new_id = ids.duty_id(doc_id, task_id, agency, role)
            if new_id in seen_ids:
                errors.append({"line": n, "row_id": None, "error": "dòng trùng với một dòng khác"})
                continue
            note = C.split_note(row.get(C.COL_NOTE), [])
            fields = {"agency": agency, "role": role, "deadline": deadline}
            task_text = (documents.get(doc_id, {}).get("tasks") or {}).get(task_id)
            if task_text is None:
                fields["task_text"] = re.sub(r"^\[[^\]]*\]\s*", "", str(row.get(C.COL_TASK) or ""))
            changes.append({"row_id": new_id, "kind": "add", "doc_id": doc_id, "task_id": task_id,
                            "fields": fields, "extracted": None, "note": note, "source_file": source_file})
            seen_ids.add(new_id)
            counts["added"] += 1
    for row_id, s in shown.items():
        if row_id in seen_ids:
            continue
        prev = stored.get(row_id)
        if prev and prev["kind"] == "add":
            removals.append(row_id)       # the clerk took back a row they had added
        else:
            changes.append({"row_id": row_id, "kind": "delete", "doc_id": s["doc_id"], "task_id": s["task_id"],
                            "fields": {}, "extracted": extracted_of(row_id, s), "note": None,
                            "source_file": source_file})
        counts["deleted"] += 1
    for doc_id, fields in doc_changes.items():
        prev = stored.get(doc_id)
        merged = dict((prev or {}).get("fields") or {})
        merged.update(fields)
        doc_then = {f: documents.get(doc_id, {}).get(f) for f in merged}
        doc_then.update((prev or {}).get("extracted") or {})
        changes.append({"row_id": doc_id, "kind": "document", "doc_id": doc_id, "task_id": None,
                        "fields": merged, "extracted": doc_then, "note": None, "source_file": source_file})
        counts["document_fields"] += len(fields)
    return {"changes": changes, "removals": removals, "errors": errors, "counts": counts}


def _collect_doc_changes(row: dict, s: dict, doc_changes: dict, errors: list, line: int) -> None:
    C = clerk
    shown_doc = s.get("doc") or {}
    for col, field in C.DOC_FIELDS.items():
        if col not in row:
            continue
        if field == "issue_date":
            value, ok = C.parse_date(row[col])
            if not ok:
                errors.append({"line": line, "row_id": s.get("row_id"), "error": f"Ngày văn bản không rõ: {row[col]!r}"})
                continue
        elif field == "number_symbol":
            value = re.sub(r"\s+", "", str(row[col] or "")) or None
        else:
            value = re.sub(r"\s+", " ", str(row[col] or "")).strip() or None
        if value != shown_doc.get(field):
            doc_changes.setdefault(s["doc_id"], {})[field] = value


def _resolve_doc(row: dict, documents: dict[str, dict]) -> Optional[str]:
    C = clerk
    source = C.parse_source(row.get(C.COL_SOURCE))
    if source:
        hits = [d for d, info in documents.items() if info.get("source") == source]
        if not hits:
            hits = [d for d, info in documents.items()
                    if info.get("source") and Path(info["source"]).name == Path(source).name]
        if len(hits) == 1:
            return hits[0]
    ns = str(row.get(C.COL_NUMBER) or "").strip()
    if ns:
        key = ids.normalize_number_symbol(ns)
        hits = [d for d, info in documents.items()
                if info.get("number_symbol") and ids.normalize_number_symbol(info["number_symbol"]) == key]
        if len(hits) == 1:
            return hits[0]
    return None


# ---------------------------------------------------------------- the command

def _run_documents(out: Path) -> list[dict]:
    """The documents of the last run in OUT (documents/*.json hold the pipeline's own reading)."""
    keep = None
    run_json = out / "run.json"
    if run_json.exists():
        try:
            detail = json.loads(run_json.read_text(encoding="utf-8")).get("files_detail") or []
            keep = {f.get("doc_id") for f in detail if f.get("doc_id")} or None
        except (ValueError, AttributeError):
            keep = None
    docs = []
    for p in sorted((out / "documents").glob("*.json")):
        doc = json.loads(p.read_text(encoding="utf-8"))
        if keep is None or doc.get("doc_id") in keep:
            docs.append(doc)
    return docs


def apply_corrections(file: Path, out: Path) -> dict[str, Any]:
    """Store the corrections of an edited nhiem_vu.xlsx/.csv and rewrite the outputs of OUT with them."""
    file, out = Path(file), Path(out)
    rows, shown = clerk.read_task_list(file)
    index = clerk.load_index(out)
    if shown is None:
        shown = index.get("rows") or {}
    for row_id, s in shown.items():
        s.setdefault("row_id", row_id)
    config = _config()
    outputs = getattr(config, "outputs", None) or {}
    stored = load(out, outputs)
    diff = diff_task_list(rows, shown, index.get("documents") or {}, stored, file.name)
    store(out, diff["changes"], diff["removals"], outputs)
    summary: dict[str, Any] = {"file": str(file), **diff["counts"], "errors": diff["errors"],
                               "stored_total": len(load(out, outputs))}
    docs = _run_documents(out)
    if docs:
        from pipeline import emitters
        from pipeline.outputs import write_duties
        corrected = emitters.before_write(out, docs, config)
        write_duties(out, corrected)
        report = {}
        if (out / "run.json").exists():
            report = json.loads((out / "run.json").read_text(encoding="utf-8"))
        emitters.after_write(out, corrected, report, config)
        _upsert_tracking(out, corrected, outputs)
        rep_path = out / REPORT_NAME
        rep = json.loads(rep_path.read_text(encoding="utf-8")) if rep_path.exists() else {}
        summary["conflicts"] = rep.get("conflicts", [])
        summary["applied"] = rep.get("applied", 0)
        summary["outputs_rewritten"] = True
    else:
        summary["conflicts"] = []
        summary["outputs_rewritten"] = False
    return summary


def _config():
    from pipeline.config import Config
    try:
        from pipeline.config import load_config
        return load_config()
    except Exception:  # noqa: BLE001 - the outputs need no stage settings
        return Config(stages=[])


def _upsert_tracking(out: Path, documents: list[dict], outputs: dict) -> None:
    try:
        from pipeline.tracking import db_path as tracking_path, open_db, upsert_documents
    except ImportError:
        return
    path = tracking_path(out, outputs)
    if path is None:
        return
    conn = open_db(path)
    try:
        upsert_documents(conn, documents)
        if hasattr(conn, "commit"):
            conn.commit()
    finally:
        if hasattr(conn, "close"):
            conn.close()
