"""The clerk's task list: OUT/nhiem_vu.csv and OUT/nhiem_vu.xlsx.

One row per duty (task × agency), in Vietnamese, in the manner of the registers of
Decree 30/2020/NĐ-CP Appendix IV: the letter (Số, ký hiệu; Ngày văn bản; Cơ quan ban
hành; Trích yếu), the task, who must act and in what role, the deadline, whether a person
must check it, where it was read, notes, and a stable row id (``Mã dòng``, the duty id of
pipeline/ids.py). Rows that need checking come first.

The clerk edits the list and gives it back to ``directives apply-corrections``
(pipeline/corrections.py). To know what the clerk changed, what was shown is kept next to
the list: in a hidden sheet of the xlsx, and in OUT/nhiem_vu.index.json for the CSV.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
import json
import os
import re
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from pipeline import ids
from pipeline.links import display_date, suggestions_map
from pipeline.outputs import Spool, json_at, write_json_object

COL_NO = "STT"
COL_NUMBER = "Số, ký hiệu"
COL_DATE = "Ngày văn bản"
COL_ISSUER = "Cơ quan ban hành"
COL_SUBJECT = "Trích yếu"
COL_TASK = "Nhiệm vụ"
COL_AGENCY = "Cơ quan thực hiện"
COL_ROLE = "Vai trò"
COL_DEADLINE = "Thời hạn"
COL_REVIEW = "Cần kiểm tra"
COL_SOURCE = "Nguồn"
COL_NOTE = "Ghi chú"
COL_ROW_ID = "Mã dòng"
COLUMNS = [COL_NO, COL_NUMBER, COL_DATE, COL_ISSUER, COL_SUBJECT, COL_TASK, COL_AGENCY, COL_ROLE,
           COL_DEADLINE, COL_REVIEW, COL_SOURCE, COL_NOTE, COL_ROW_ID]

SHEET = "Nhiệm vụ"
EXPORT_SHEET = "_xuat"          # hidden: what was shown, per row id
INDEX_FILE = "nhiem_vu.index.json"
REVIEW_MARK = "x"
CLERK_PREFIX = "Văn thư: "
NOTE_SEP = " | "
MAX_TASK_TEXT = 1500
STYLE_MAX_ROWS = 20000

ROLE_LABELS = {"lead": "chủ trì", "coordinate": "phối hợp", "requested": "được đề nghị",
               "addressee": "nơi nhận"}
_ROLE_WORDS = {
    "chu tri": "lead", "lead": "lead", "thuc hien": "lead", "chu tri thuc hien": "lead",
    "phoi hop": "coordinate", "coordinate": "coordinate", "phoi hop thuc hien": "coordinate",
    "duoc de nghi": "requested", "de nghi": "requested", "requested": "requested",
    "noi nhan": "addressee", "addressee": "addressee", "kinh gui": "addressee",
}
RECURRENCES = ("hàng tháng", "hàng quý", "hàng năm", "định kỳ", "hằng tháng", "hằng quý", "hằng năm")

DOC_FIELDS = {COL_NUMBER: "number_symbol", COL_DATE: "issue_date", COL_ISSUER: "issuer",
              COL_SUBJECT: "subject"}


# ---------------------------------------------------------------- values

def role_label(role: Optional[str]) -> str:
    return ROLE_LABELS.get(role or "", role or "")


def parse_role(value: Any) -> Optional[str]:
    key = " ".join(re.findall(r"[a-z]+", ids.fold(str(value or ""))))
    return _ROLE_WORDS.get(key)


def date_display(value: Optional[str]) -> str:
    """ISO date (or partial, or a recurrence word) -> dd/mm/yyyy (or mm/yyyy, yyyy, the word)."""
    if not value:
        return ""
    return display_date(value) if re.match(r"^\d{4}(-\d{2}){0,2}$", value) else value


def parse_date(value: Any, allow_recurrence: bool = False) -> tuple[Optional[str], bool]:
    """A clerk's date -> (ISO or recurrence word or None, ok). Accepts dd/mm/yyyy, d-m-yyyy,
    mm/yyyy, yyyy, ISO, an Excel date cell, and (for deadlines) the recurrence words."""
    if value is None:
        return None, True
    if isinstance(value, (dt.datetime, dt.date)):
        return value.strftime("%Y-%m-%d"), True
    v = str(value).strip()
    if not v or v.lower() in ("nan", "nat", "none"):
        return None, True
    m = re.match(r"^(\d{4})-(\d{2})-(\d{2})(?:[ T]00:00(?::00)?)?$", v)
    if m:
        return _valid(int(m[1]), int(m[2]), int(m[3]))
    m = re.match(r"^(\d{1,2})[/.\-](\d{1,2})[/.\-](\d{4})$", v)
    if m:
        return _valid(int(m[3]), int(m[2]), int(m[1]))
    m = re.match(r"^(\d{1,2})[/.\-](\d{4})$", v)
    if m and 1 <= int(m[1]) <= 12:
        return f"{m[2]}-{int(m[1]):02d}", True
    if re.match(r"^\d{4}(-\d{2})?$", v):
        return v, True
    if allow_recurrence:
        fv = ids.fold(v)
        for word in RECURRENCES:
            if ids.fold(word) == fv:
                return word.replace("hằng", "hàng"), True
    return None, False


def _valid(y: int, m: int, d: int) -> tuple[Optional[str], bool]:
    try:
        return dt.date(y, m, d).isoformat(), True
    except ValueError:
        return None, False


def task_cell(task_id: str, title: Optional[str], text: str) -> str:
    body = " ".join(x for x in [title and f"{title}:", text or ""] if x).strip()
    if len(body) > MAX_TASK_TEXT:
        body = body[:MAX_TASK_TEXT].rstrip() + " …"
    return f"[{task_id}] {body}".strip()


def parse_task_id(value: Any) -> Optional[str]:
    v = str(value or "").strip()
    if not v or v.lower() == "nan":
        return None
    m = re.match(r"^\[([^\]\s]+)\]", v)
    if m:
        return m.group(1)
    m = re.match(r"^([0-9A-Za-zđĐ]+(?:\.[0-9A-Za-zđĐ]+)*)[.:)\-]?(?:\s|$)", v)
    return m.group(1).rstrip(".") if m else None


def source_cell(source: Optional[str], page: Optional[int]) -> str:
    return f"{source or ''}, tr. {page}" if page else (source or "")


def parse_source(value: Any) -> str:
    return re.sub(r",\s*tr\.\s*\d+\s*$", "", str(value or "")).strip()


# ---------------------------------------------------------------- rows

def _doc_notes(doc: dict, suggestions: Any) -> tuple[list[str], bool]:
    notes, review = [], False
    fields = set(doc.get("needs_review") or [])
    for w in doc.get("warnings") or []:
        if w.get("code") == "invalid_date":
            notes.append(f"Ngày văn bản không đọc được ({w.get('message')})")
            review = True
    labels = {"number_symbol": "số, ký hiệu", "issue_date": "ngày văn bản", "issuer": "cơ quan ban hành",
              "subject": "trích yếu", "doc_type": "loại văn bản"}
    shown = [labels[f] for f in labels if f in fields]
    if shown:
        notes.append("Cần kiểm tra " + ", ".join(shown))
        review = True
    for s in suggestions.get(doc["doc_id"], []):
        ev = s["evidence"][0] if s.get("evidence") else {}
        cited = " ".join(x for x in [ev.get("citing_doc_type"), ev.get("citing_number_symbol")] if x) \
            or ev.get("citing_source") or ""
        notes.append(f"Ngày văn bản có thể là {s['suggested_display']} (theo {cited})")
        review = True
    for f, info in (doc.get("clerk_fields") or {}).items():
        notes.append(f"Văn thư đã sửa {labels.get(f, f)}")
    return notes, review


_SUMMARY_DOC_KEYS = ("doc_id", "source", "number_symbol", "issue_date", "issuer", "subject",
                     "needs_review", "clerk_fields")
_SUMMARY_TASK_KEYS = ("id", "title", "text", "page", "needs_review", "deadline", "agencies")


def clerk_summary(doc: dict[str, Any]) -> dict[str, Any]:
    """What the task list needs of a document: the header fields of its rows, the
    ``invalid_date`` warnings, the clerk's fields and the tasks (id, title, text, page,
    deadline, flags, agencies) — not the document's text, pages or provenance.  A run keeps
    one of these per document; :func:`write_task_list` over them writes the same files as over
    the whole records."""
    summary = {k: doc[k] for k in _SUMMARY_DOC_KEYS if k in doc}
    summary["warnings"] = [w for w in doc.get("warnings") or [] if w.get("code") == "invalid_date"]
    summary["tasks"] = [{k: t[k] for k in _SUMMARY_TASK_KEYS if k in t} for t in doc.get("tasks") or []]
    return summary


def _doc_rows(doc: dict[str, Any], d_index: int, suggestions: Any) -> Iterator[dict[str, Any]]:
    """The rows of one document (``d_index``: its place in source order), unnumbered and unsorted."""
    doc_notes, doc_review = _doc_notes(doc, suggestions)
    for t_index, task in enumerate(doc.get("tasks") or []):
        for a_index, ag in enumerate(task.get("agencies") or []):
            clerk = ag.get("clerk") or {}
            row_id = ag.get("duty_id") or ids.duty_id(doc["doc_id"], task["id"], ag["name"], ag["role"])
            deadline = ag.get("deadline", task.get("deadline"))
            notes = list(doc_notes)
            review = doc_review or bool(ag.get("needs_review") or task.get("needs_review"))
            if clerk.get("reviewed"):
                review = doc_review
            if ag.get("needs_review"):
                notes.append("Cần kiểm tra cơ quan, vai trò")
            elif task.get("needs_review") and not clerk.get("reviewed"):
                notes.append("Cần kiểm tra nhiệm vụ")
            if clerk:
                notes.append("Văn thư đã thêm dòng" if clerk.get("kind") == "add" else "Văn thư đã sửa")
            for c in clerk.get("conflicts") or []:
                notes.append(f"Xung đột: máy nay đọc {c['field']} = {c['extracted_now']!s}, "
                             f"giữ quyết định của văn thư")
                review = True
            if clerk.get("note"):
                notes.append(CLERK_PREFIX + clerk["note"])
            yield {
                COL_NUMBER: doc.get("number_symbol") or "",
                COL_DATE: date_display(doc.get("issue_date")),
                COL_ISSUER: doc.get("issuer") or "",
                COL_SUBJECT: doc.get("subject") or "",
                COL_TASK: task_cell(task["id"], task.get("title"), task.get("text") or ""),
                COL_AGENCY: ag["name"],
                COL_ROLE: role_label(ag["role"]),
                COL_DEADLINE: date_display(deadline),
                COL_REVIEW: REVIEW_MARK if review else "",
                COL_SOURCE: source_cell(doc.get("source"), task.get("page")),
                COL_NOTE: NOTE_SEP.join(notes),
                COL_ROW_ID: row_id,
                "_order": (0 if review else 1, d_index, t_index, a_index),
                "_shown": {"doc_id": doc["doc_id"], "task_id": task["id"], "agency": ag["name"],
                           "role": ag["role"], "deadline": deadline, "reviewed": not review,
                           "note": clerk.get("note"), "generated_notes": [n for n in notes
                                                                          if not n.startswith(CLERK_PREFIX)],
                           "doc": {f: doc.get(f) for f in DOC_FIELDS.values()}},
            }


def task_rows(documents: Iterable[dict[str, Any]], links: Optional[dict] = None) -> list[dict[str, Any]]:
    """The task list rows (with hidden working keys starting with ``_``), review rows first."""
    suggestions = suggestions_map(links)
    rows = []
    for d_index, doc in enumerate(sorted(documents, key=lambda d: d.get("source") or "")):
        rows.extend(_doc_rows(doc, d_index, suggestions))
    rows.sort(key=lambda r: r["_order"])
    for i, r in enumerate(rows, 1):
        r[COL_NO] = i
    return rows


def _index_entry(doc: dict[str, Any]) -> dict[str, Any]:
    return {"source": doc.get("source"), "number_symbol": doc.get("number_symbol"),
            "issue_date": doc.get("issue_date"), "issuer": doc.get("issuer"),
            "subject": doc.get("subject"),
            "tasks": {t["id"]: t.get("text") or "" for t in doc.get("tasks") or []}}


def _documents_index(documents: Iterable[dict]) -> dict[str, dict]:
    return {d["doc_id"]: _index_entry(d) for d in documents}


def write_task_list(out_dir: Path, documents: Iterable[dict[str, Any]], links: Optional[dict] = None) -> int:
    """Write nhiem_vu.csv (UTF-8 with BOM), nhiem_vu.xlsx and nhiem_vu.index.json; return the row count."""
    with TaskList() as spool:
        for doc in documents:
            spool.add(doc)
        return spool.write(out_dir, links)


class TaskList(Spool):
    """The task list built on disk, so that its size does not count in memory.

    ``add(doc)`` (a record or its :func:`clerk_summary`, in any order) keeps the document's
    summary and its entry of nhiem_vu.index.json in a private temporary SQLite database (a
    file SQLite deletes when the connection closes, or at once on POSIX: nothing is left
    behind, even by a killed run); ``write(out, links)`` then builds the rows of each
    document, in source order, into a table whose key is the order of the list (review
    rows first), and writes nhiem_vu.csv, nhiem_vu.index.json and nhiem_vu.xlsx (openpyxl's
    write-only workbook: rows go to a temporary file as they come) from it with ``ORDER BY``.
    At most one document's rows are in memory at a time.  The files are those that the
    former all-in-memory writer (pandas + openpyxl) wrote: same CSV bytes, same JSON bytes,
    same cell values and styles, column widths, frozen header row and filter."""

    def __init__(self):
        super().__init__("""
            CREATE TABLE docs(seq INTEGER PRIMARY KEY, source TEXT NOT NULL, summary TEXT NOT NULL);
            CREATE TABLE doc_index(doc_id TEXT PRIMARY KEY, seq INTEGER NOT NULL, entry TEXT NOT NULL);
            CREATE TABLE rows(review INTEGER, d INTEGER, t INTEGER, a INTEGER, row_id TEXT,
                              cells TEXT, shown TEXT, PRIMARY KEY (review, d, t, a)) WITHOUT ROWID;
            CREATE TABLE shown(row_id TEXT PRIMARY KEY, pos INTEGER NOT NULL, shown TEXT NOT NULL);
        """)
        self.n_docs = 0

    def add(self, doc: dict[str, Any]) -> None:
        summary = clerk_summary(doc)
        seq = self.n_docs
        self.n_docs += 1
        self.db.execute("INSERT INTO docs VALUES (?, ?, ?)",
                        (seq, summary.get("source") or "", json.dumps(summary)))
        # a dict keeps the first place of a key and its last value: so does this upsert
        self.db.execute("INSERT INTO doc_index VALUES (?, ?, ?) ON CONFLICT(doc_id) DO UPDATE "
                        "SET entry = excluded.entry", (summary["doc_id"], seq, json.dumps(_index_entry(summary))))

    def write(self, out_dir: Path, links: Optional[dict] = None) -> int:
        from pipeline.outputs import atomic_writer
        out = Path(out_dir)
        db = self.db
        suggestions = suggestions_map(links)
        db.execute("DELETE FROM rows")
        db.execute("DELETE FROM shown")
        docs = db.execute("SELECT summary FROM docs ORDER BY source, seq")
        for d_index, (summary,) in enumerate(docs):
            db.executemany("INSERT INTO rows VALUES (?, ?, ?, ?, ?, ?, ?)", (
                (*row["_order"], row[COL_ROW_ID], json.dumps([row[c] for c in COLUMNS[1:]]),
                 json.dumps(row["_shown"]))
                for row in _doc_rows(json.loads(summary), d_index, suggestions)))
        n_rows = db.execute("SELECT COUNT(*) FROM rows").fetchone()[0]
        order = "SELECT row_id, cells, shown, review FROM rows ORDER BY review, d, t, a"

        # nhiem_vu.csv as pandas' DataFrame.to_csv(index=False) wrote it (csv module, minimal quoting)
        with atomic_writer(out / "nhiem_vu.csv", encoding="utf-8-sig") as fh:
            writer = csv.writer(fh, lineterminator=os.linesep)
            writer.writerow(COLUMNS)
            for pos, (row_id, cells, shown, _) in enumerate(db.execute(order), 1):
                writer.writerow([pos, *json.loads(cells)])
                db.execute("INSERT INTO shown VALUES (?, ?, ?) ON CONFLICT(row_id) DO UPDATE "
                           "SET shown = excluded.shown", (row_id, pos, shown))

        # nhiem_vu.index.json, the bytes of write_json({"columns", "rows", "documents"})
        with atomic_writer(out / INDEX_FILE) as fh:
            fh.write('{\n  "columns": ' + json_at(COLUMNS, 1) + ',\n  "rows": ')
            write_json_object(fh, db.execute("SELECT row_id, shown FROM shown ORDER BY pos"), 1)
            fh.write(',\n  "documents": ')
            write_json_object(fh, db.execute("SELECT doc_id, entry FROM doc_index ORDER BY seq"), 1)
            fh.write("\n}\n")

        with atomic_writer(out / "nhiem_vu.xlsx", "wb") as fh:
            self._write_xlsx(fh, n_rows, db.execute(order))
        return n_rows

    def _write_xlsx(self, fh, n_rows: int, rows) -> None:
        from openpyxl import Workbook
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.styles import Alignment, Font, PatternFill
        from openpyxl.utils import get_column_letter

        book = Workbook(write_only=True)
        ws = book.create_sheet(SHEET)
        for i, col in enumerate(COLUMNS, 1):         # before the first row (write-only mode)
            ws.column_dimensions[get_column_letter(i)].width = COLUMN_WIDTHS.get(col, 15)
        ws.freeze_panes = "A2"
        ws.auto_filter.ref = f"A1:{get_column_letter(len(COLUMNS))}{n_rows + 1}"
        bold = Font(bold=True)
        ws.append([_styled(ws, WriteOnlyCell, col, font=bold) for col in COLUMNS])
        styled = n_rows <= STYLE_MAX_ROWS            # styling every cell of a huge list costs minutes
        align = Alignment(wrap_text=True, vertical="top")
        fill = PatternFill("solid", start_color="FFF2CC", end_color="FFF2CC")
        text_cols = {COLUMNS.index(c) for c in (COL_NUMBER, COL_DATE, COL_DEADLINE, COL_ROW_ID)}
        for pos, (_, cells, _, review) in enumerate(rows, 1):
            values = [pos, *json.loads(cells)]
            if not styled:
                ws.append(values)
                continue
            flagged = bool(values[COLUMNS.index(COL_REVIEW)])
            ws.append([_styled(ws, WriteOnlyCell, v, alignment=align,
                               number_format="@" if c in text_cols else None,
                               fill=fill if flagged else None)
                       for c, v in enumerate(values)])
        hidden = book.create_sheet(EXPORT_SHEET)
        hidden.sheet_state = "hidden"
        hidden.append(["row_id", "shown"])
        for row_id, shown in self.db.execute("SELECT row_id, shown FROM shown ORDER BY pos"):
            hidden.append([row_id, json.dumps(json.loads(shown), ensure_ascii=False)])
        book.save(fh)


COLUMN_WIDTHS = {COL_NO: 6, COL_NUMBER: 14, COL_DATE: 12, COL_ISSUER: 24, COL_SUBJECT: 36, COL_TASK: 60,
                 COL_AGENCY: 30, COL_ROLE: 13, COL_DEADLINE: 12, COL_REVIEW: 9, COL_SOURCE: 24, COL_NOTE: 40,
                 COL_ROW_ID: 30}


def _styled(ws, cell_class, value, font=None, alignment=None, number_format=None, fill=None):
    cell = cell_class(ws, value=value)
    if font is not None:
        cell.font = font
    if alignment is not None:
        cell.alignment = alignment
    if number_format is not None:
        cell.number_format = number_format
    if fill is not None:
        cell.fill = fill
    return cell


# ---------------------------------------------------------------- reading back

def read_task_list(path: Path) -> tuple[list[dict[str, Any]], Optional[dict[str, dict]]]:
    """Rows of an edited task list (xlsx or csv) as {column: value}, and, for an xlsx, what it showed."""
    import pandas as pd
    path = Path(path)
    shown = None
    if path.suffix.lower() in (".xlsx", ".xlsm"):
        sheets = pd.read_excel(path, sheet_name=None, dtype=object)
        frame = sheets.get(SHEET)
        if frame is None:
            frame = next(iter(sheets.values()))
        if EXPORT_SHEET in sheets:
            ex = sheets[EXPORT_SHEET]
            shown = {str(r["row_id"]): json.loads(r["shown"]) for _, r in ex.iterrows()}
    else:
        raw = path.read_bytes().decode("utf-8-sig")
        frame = pd.read_csv(io.StringIO(raw), dtype=str, keep_default_na=False)
    frame.columns = [str(c).strip() for c in frame.columns]
    missing = [c for c in (COL_TASK, COL_AGENCY, COL_ROLE, COL_ROW_ID) if c not in frame.columns]
    if missing:
        raise ValueError(f"{path.name}: missing columns {missing}")
    rows = []
    for _, r in frame.iterrows():
        row = {c: _cell(r.get(c)) for c in frame.columns}
        if not any(v not in (None, "") for k, v in row.items() if k != COL_NO):
            continue
        rows.append(row)
    return rows, shown


def _cell(v: Any) -> Any:
    if v is None:
        return ""
    try:
        import pandas as pd
        if pd.isna(v):
            return ""
    except (TypeError, ValueError):
        pass
    if isinstance(v, (dt.datetime, dt.date)):
        return v
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v).strip()


def load_index(out_dir: Path) -> dict:
    path = Path(out_dir) / INDEX_FILE
    if not path.exists():
        return {"rows": {}, "documents": {}}
    return json.loads(path.read_text(encoding="utf-8"))


def split_note(cell: str, generated: list[str]) -> Optional[str]:
    """The clerk's own words in a Ghi chú cell: what is not a note the pipeline wrote."""
    parts = [p.strip() for p in str(cell or "").split(NOTE_SEP.strip())]
    gen = {g.strip() for g in generated}
    own = [p[len(CLERK_PREFIX):].strip() if p.startswith(CLERK_PREFIX) else p
           for p in parts if p and p not in gen]
    return "; ".join(own) or None
