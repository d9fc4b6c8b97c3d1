"""OUT/review.html: one self-contained static page per run for a person to check the reading.

For each document: its header fields and its task list beside the source — the page
images of a scan (embedded as base64 PNG, with the boxes of tasks and fields drawn on
them) and the text, in which the words each field came from are highlighted. Fields,
tasks and duties the pipeline doubted (needs_review, low confidence, warnings, a clerk's
conflict) are flagged. No server, no script, no external file: the page opens anywhere.
"""
from __future__ import annotations

import base64
import html
import io
import re
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Optional

from pipeline.ids import fold
from pipeline.links import display_date

FIELD_LABELS = [
    ("doc_type", "Loại văn bản"), ("number_symbol", "Số, ký hiệu"), ("issue_date", "Ngày văn bản"),
    ("place", "Địa danh"), ("issuer", "Cơ quan ban hành"), ("subject", "Trích yếu"),
    ("recipients", "Kính gửi"), ("signer", "Người ký"), ("distribution", "Nơi nhận"),
    ("references", "Văn bản viện dẫn"),
]
ROLE_LABELS = {"lead": "chủ trì", "coordinate": "phối hợp", "requested": "được đề nghị", "addressee": "nơi nhận"}
LOW_CONF = 60.0          # Tesseract-style word confidence (0-100) below which a field is flagged
LOW_DUTY_CONF = 0.6      # duty confidence (0-1)
MAX_IMAGE_WIDTH = 1000
MAX_MARKS_PER_NAME = 12
LOW_RESTORE_CONF = 0.6   # diacritic restoration confidence (0-1) below which a word is underlined
MAX_LOWCONF_MARKS = 3000
FLAG_ATTR = ' class="flag"'
REVIEW_BADGE = '<span class="badge review">cần kiểm tra</span>'
WARN_OPEN = '<ul class="warnings">'

CSS = """
*{box-sizing:border-box}body{font-family:"DejaVu Sans",Arial,sans-serif;margin:0;color:#222;background:#f4f4f4;font-size:14px}
header.run{background:#1f3b5a;color:#fff;padding:12px 20px}header.run h1{margin:0 0 4px;font-size:20px}
nav.docs{background:#fff;padding:8px 20px;border-bottom:1px solid #ccc}nav.docs a{margin-right:14px}
section.links{background:#fff;margin:12px 20px;padding:8px 14px;border:1px solid #ccc}
article.doc{background:#fff;margin:16px 20px;padding:10px 14px;border:1px solid #bbb}
article.doc h2{margin:0 0 8px;font-size:17px}.cols{display:grid;grid-template-columns:minmax(0,1fr) minmax(0,1fr);gap:14px}
table{border-collapse:collapse;width:100%}th,td{border:1px solid #ddd;padding:3px 6px;vertical-align:top;text-align:left}
th{background:#f0f0f0;width:9em}.tasks th{width:auto}
.flag{background:#fff3cd}.flag>th:first-child::before,.flag>td:first-child::before{content:"⚠ ";color:#b35900}
.badge{display:inline-block;font-size:11px;padding:0 5px;border-radius:3px;background:#ddd;margin-left:4px}
.badge.review{background:#ffc107}.badge.clerk{background:#9fd59f}.badge.conflict{background:#f28b82}
ul.agencies{margin:0;padding-left:16px}li.flag{list-style:none;margin-left:-14px}
pre.text{white-space:pre-wrap;word-wrap:break-word;font-family:"DejaVu Sans Mono",monospace;font-size:12px;
background:#fbfbf8;border:1px solid #ddd;padding:8px;max-height:1400px;overflow:auto}
mark{background:#cfe8ff;border-bottom:2px solid #3d8bd9}mark.task{background:#e6f4d7;border-bottom-color:#5aa02c}
mark.flag{background:#ffd9a8;border-bottom-color:#d9822b}
mark.lowconf{background:none;border-bottom:2px dotted #c0392b}
figure.page{margin:0 0 10px}.page-wrap{position:relative;display:inline-block;max-width:100%}
.page-wrap img{display:block;max-width:100%;height:auto;border:1px solid #999}
.box{position:absolute;border:2px solid #3d8bd9;background:transparent!important}.box.task{border-color:#5aa02c}.box.flag{border-color:#d9822b}
ul.warnings{color:#8a4b00;margin:6px 0}.muted{color:#777}
"""


# ---------------------------------------------------------------- highlighting

def _word_pattern(value: str) -> Optional[str]:
    words = re.findall(r"\w+", fold(value))
    if not words:
        return None
    return r"(?<!\w)" + r"[\W_]+".join(re.escape(w) for w in words[:10]) + r"(?!\w)"


def _char_pattern(value: str) -> Optional[str]:
    v = re.sub(r"\s+", "", fold(value))
    return r"\s*".join(re.escape(c) for c in v) if v else None


def _date_patterns(iso: Optional[str]) -> list[str]:
    if not iso or not re.match(r"^\d{4}", iso):
        return []
    parts = iso.split("-")
    y = parts[0]
    if len(parts) == 3:
        m, d = int(parts[1]), int(parts[2])
        return [rf"ngay\s*0?{d}\s*thang\s*0?{m}\s*nam\s*{y}", rf"(?<!\d)0?{d}\s*[/.\-]\s*0?{m}\s*[/.\-]\s*{y}"]
    if len(parts) == 2:
        return [rf"thang\s*0?{int(parts[1])}\s*nam\s*{y}", rf"(?<!\d)0?{int(parts[1])}\s*/\s*{y}"]
    return [rf"nam\s*{y}"]


def _find(folded: str, pattern: Optional[str], limit: int = 1) -> list[tuple[int, int]]:
    if not pattern:
        return []
    try:
        return [(m.start(), m.end()) for m, _ in zip(re.finditer(pattern, folded), range(limit)) if m.end() > m.start()]
    except re.error:
        return []


def highlight_spans(doc: dict) -> list[dict]:
    """Spans of the text the fields came from: {start, end, field, label, flag, css}."""
    text = doc.get("text") or ""
    folded = fold(text)
    flagged = set(doc.get("needs_review") or [])
    spans: list[dict] = []

    def add(field, label, hits, flag=False, css=""):
        for s, e in hits:
            spans.append({"start": s, "end": e, "field": field, "label": label, "flag": flag, "css": css})

    prov = doc.get("provenance") or {}
    for field, info in prov.items():   # explicit character spans from the extractors win
        span = (info or {}).get("span") if isinstance(info, dict) else None
        if isinstance(span, (list, tuple)) and len(span) == 2 and 0 <= span[0] < span[1] <= len(text):
            add(field, field, [tuple(span)], field in flagged or _low(info))
    have = {s["field"] for s in spans}
    for field in ("number_symbol", "doc_type", "place", "issuer", "subject"):
        value = doc.get(field)
        if not value or field in have:
            continue
        pat = _char_pattern(value) if field == "number_symbol" else _word_pattern(value)
        hits = []
        if field == "place" and pat:   # the place of the date line: "Lai Châu, ngày …"
            hits = _find(folded, pat + r"(?=\W{0,3}ngay)")
        add(field, field, hits or _find(folded, pat), field in flagged or _low(prov.get(field)))
    if "issue_date" not in have:
        hits = []
        for p in _date_patterns(doc.get("issue_date")):
            hits = _find(folded, p)
            if hits:
                break
        add("issue_date", "issue_date", hits, "issue_date" in flagged or _low(prov.get("issue_date")))
        for w in doc.get("warnings") or []:
            if w.get("code") == "invalid_date" and w.get("message"):
                add("issue_date", "invalid_date", _find(folded, _word_pattern(w["message"])), True)
    signer = doc.get("signer") or {}
    for part in ("name", "title", "capacity", "authority"):
        if signer.get(part):
            add("signer", f"signer.{part}", _find(folded, _word_pattern(signer[part])), "signer" in flagged)
    for r in doc.get("recipients") or []:
        add("recipients", "recipients", _find(folded, _word_pattern(r)), "recipients" in flagged)
    for ref in doc.get("references") or []:
        if ref.get("number_symbol"):
            add("references", "references", _find(folded, _char_pattern(ref["number_symbol"])))
    names: dict[str, bool] = {}
    for t in doc.get("tasks") or []:
        for a in t.get("agencies") or []:
            names[a["name"]] = names.get(a["name"], False) or _duty_flag(t, a)
    for name, flag in names.items():
        add("agency", f"agency: {name}", _find(folded, _word_pattern(name), MAX_MARKS_PER_NAME), flag, "task")
    # keep the first of overlapping spans, header fields before agencies
    spans.sort(key=lambda s: (s["start"], -(s["end"] - s["start"])))
    kept, last_end = [], -1
    for s in spans:
        if s["start"] >= last_end:
            kept.append(s)
            last_end = s["end"]
    # words whose diacritics the restorer guessed with low confidence, where no field is marked
    tokens = prov.get("restoration_tokens") if isinstance(prov.get("restoration_tokens"), list) else []
    doubtful = []
    for t in tokens:
        if not isinstance(t, dict) or not isinstance(t.get("start"), int) or not t.get("restored"):
            continue
        conf = t.get("confidence")
        start, end = t["start"], t["start"] + len(t["restored"])
        if isinstance(conf, (int, float)) and conf < LOW_RESTORE_CONF and text[start:end] == t["restored"]:
            doubtful.append({"start": start, "end": end, "field": "restoration", "flag": False, "css": "lowconf",
                             "label": f"khôi phục dấu: {t.get('original')} → {t['restored']} ({conf:.2f})"})
        if len(doubtful) >= MAX_LOWCONF_MARKS:
            break
    if doubtful:
        import bisect
        starts = [s["start"] for s in kept]
        for d in doubtful:
            i = bisect.bisect_right(starts, d["start"])
            if (i == 0 or kept[i - 1]["end"] <= d["start"]) and (i == len(kept) or d["end"] <= kept[i]["start"]):
                kept.insert(i, d)
                starts.insert(i, d["start"])
    return kept


def _low(info: Any) -> bool:
    conf = info.get("conf") if isinstance(info, dict) else None
    return isinstance(conf, (int, float)) and conf < LOW_CONF


def _duty_flag(task: dict, ag: dict) -> bool:
    clerk = ag.get("clerk") or {}
    if clerk.get("conflicts"):
        return True
    if clerk.get("reviewed"):
        return False
    conf = ag.get("confidence")
    return bool(ag.get("needs_review") or task.get("needs_review")
                or (isinstance(conf, (int, float)) and conf < LOW_DUTY_CONF))


def render_text(doc: dict, anchor: str) -> str:
    text = doc.get("text") or ""
    out, pos, first = [], 0, set()
    for s in highlight_spans(doc):
        out.append(html.escape(text[pos:s["start"]]))
        classes = " ".join(x for x in [s["css"], "flag" if s["flag"] else ""] if x)
        ident = ""
        if s["field"] not in first:
            first.add(s["field"])
            ident = f' id="{anchor}-m-{s["field"]}"'
        out.append(f'<mark{ident} data-field="{html.escape(s["field"])}" class="{classes}" '
                   f'title="{html.escape(s["label"])}">{html.escape(text[s["start"]:s["end"]])}</mark>')
        pos = s["end"]
    out.append(html.escape(text[pos:]))
    return "".join(out)


# ---------------------------------------------------------------- page images

def _image_data(path: Optional[str], out_dir: Path) -> Optional[tuple[str, int, int]]:
    """(base64 PNG, original width, original height) of a page image, or None."""
    if not path:
        return None
    candidates = [Path(path), Path(out_dir) / path]
    p = next((c for c in candidates if c.is_file()), None)
    if p is None:
        return None
    from PIL import Image
    with Image.open(p) as im:
        width, height = im.size
        im = im.convert("RGB")
        if width > MAX_IMAGE_WIDTH:
            im = im.resize((MAX_IMAGE_WIDTH, round(height * MAX_IMAGE_WIDTH / width)))
        buf = io.BytesIO()
        im.save(buf, format="PNG", optimize=True)
    return base64.b64encode(buf.getvalue()).decode("ascii"), width, height


def _box_div(box: Any, w: int, h: int, css: str, title: str, field: str) -> str:
    if not (isinstance(box, (list, tuple)) and len(box) == 4 and w and h):
        return ""
    l, t, r, b = box
    return (f'<div class="box {css}" data-field="{html.escape(field)}" title="{html.escape(title)}" '
            f'style="left:{100 * l / w:.2f}%;top:{100 * t / h:.2f}%;width:{100 * (r - l) / w:.2f}%;'
            f'height:{100 * (b - t) / h:.2f}%"></div>')


def _kept_image(doc_id: str, number: Any, image_dirs: Iterable[Any]) -> Optional[str]:
    """The page image the OCR stage kept (settings ``keep_images``: <dir>/<doc_id>_p<n>.png)."""
    for d in image_dirs or ():
        if d and (Path(d) / f"{doc_id}_p{number}.png").is_file():
            return str(Path(d) / f"{doc_id}_p{number}.png")
    return None


def render_pages(doc: dict, out_dir: Path, image_dirs: Iterable[Any] = ()) -> str:
    parts = []
    for page in doc.get("pages") or []:
        path = page.get("image_path") or _kept_image(doc["doc_id"], page.get("number"), image_dirs)
        data = _image_data(path, out_dir)
        if not data:
            continue
        b64, w, h = data
        n = page.get("number")
        boxes = []
        for t in doc.get("tasks") or []:
            if t.get("page") == n and t.get("box"):
                boxes.append(_box_div(t["box"], w, h, "task flag" if t.get("needs_review") else "task",
                                      f"nhiệm vụ {t['id']}", "task"))
        for field, info in (doc.get("provenance") or {}).items():
            if isinstance(info, dict) and info.get("page") == n and info.get("box"):
                boxes.append(_box_div(info["box"], w, h, "flag" if _low(info) else "", field, field))
        conf = page.get("mean_conf")
        cap = f"Trang {n}" + (f" · độ tin cậy OCR {conf:.0f}" if isinstance(conf, (int, float)) else "")
        parts.append(f'<figure class="page" data-page="{n}"><div class="page-wrap">'
                     f'<img alt="trang {n}" src="data:image/png;base64,{b64}">{"".join(boxes)}</div>'
                     f'<figcaption class="muted">{html.escape(cap)}</figcaption></figure>')
    return "".join(parts)


# ---------------------------------------------------------------- fields and tasks

def _field_value(doc: dict, field: str) -> str:
    v = doc.get(field)
    if field == "issue_date":
        return html.escape(display_date(v)) if v else '<span class="muted">(không có)</span>'
    if field == "signer":
        v = v or {}
        parts = [v.get(k) for k in ("authority", "capacity", "title", "name") if v.get(k)]
        return html.escape(" · ".join(parts)) if parts else '<span class="muted">(không có)</span>'
    if field in ("recipients", "distribution"):
        return "<br>".join(html.escape(x) for x in v or []) or '<span class="muted">(không có)</span>'
    if field == "references":
        items = [" ".join(x for x in [r.get("doc_type"), r.get("number_symbol"),
                                      display_date(r.get("issue_date")), r.get("issuer")] if x) for r in v or []]
        return "<br>".join(html.escape(x) for x in items) or '<span class="muted">(không có)</span>'
    return html.escape(str(v)) if v else '<span class="muted">(không có)</span>'


def render_fields(doc: dict, anchor: str, suggestions: list[dict]) -> str:
    flagged = set(doc.get("needs_review") or [])
    prov = doc.get("provenance") or {}
    invalid = [w for w in doc.get("warnings") or [] if w.get("code") == "invalid_date"]
    clerk_fields = doc.get("clerk_fields") or {}
    rows = []
    for field, label in FIELD_LABELS:
        flag = field in flagged or _low(prov.get(field)) or (field == "issue_date" and (invalid or suggestions))
        extra = ""
        if field == "issue_date":
            for s in suggestions:
                ev = s["evidence"][0] if s.get("evidence") else {}
                extra += (f'<div class="suggestion" data-suggested="{s["suggested"]}">Gợi ý: '
                          f'<b>{html.escape(s["suggested_display"])}</b> theo '
                          f'{html.escape(" ".join(x for x in [ev.get("citing_doc_type"), ev.get("citing_number_symbol") or ev.get("citing_source")] if x))}'
                          f': <q>{html.escape(ev.get("snippet") or "")}</q></div>')
        if field in clerk_fields:
            extra += '<span class="badge clerk">văn thư đã sửa</span>'
        if field in flagged:
            extra += '<span class="badge review">cần kiểm tra</span>'
        link = f' <a href="#{anchor}-m-{field}" title="xem trong văn bản">↧</a>'
        rows.append(f'<tr data-field="{field}"{FLAG_ATTR if flag else ""}><th>{label}</th>'
                    f'<td><span class="value">{_field_value(doc, field)}</span>{link}{extra}</td></tr>')
    return '<table class="header-fields">' + "".join(rows) + "</table>"


def render_tasks(doc: dict) -> str:
    rows = []
    for t in doc.get("tasks") or []:
        ags = []
        for a in t.get("agencies") or []:
            clerk = a.get("clerk") or {}
            flag = _duty_flag(t, a)
            badges = ""
            if clerk:
                badges += '<span class="badge clerk">văn thư</span>'
            if clerk.get("conflicts"):
                badges += '<span class="badge conflict">xung đột</span>'
            if flag:
                badges += '<span class="badge review">cần kiểm tra</span>'
            dl = a.get("deadline") if "deadline" in a else None
            ags.append(f'<li{FLAG_ATTR if flag else ""} data-role="{html.escape(a.get("role") or "")}" '
                       f'data-duty-id="{html.escape(a.get("duty_id") or "")}">{"⚠ " if flag else ""}'
                       f'{html.escape(a.get("name") or "")} <i>({ROLE_LABELS.get(a.get("role"), a.get("role"))})</i>'
                       f'{" · " + html.escape(display_date(dl)) if dl else ""}{badges}</li>')
        text = t.get("text") or ""
        short = text if len(text) <= 400 else text[:400].rstrip() + " …"
        flag = bool(t.get("needs_review")) or any(_duty_flag(t, a) for a in t.get("agencies") or [])
        head = f"<b>{html.escape(t['title'])}</b><br>" if t.get("title") else ""
        deadline = t.get("deadline")
        rows.append(f'<tr data-task-id="{html.escape(t["id"])}"{FLAG_ATTR if flag else ""}>'
                    f'<td>{html.escape(t["id"])}</td><td>{head}{html.escape(short)}</td>'
                    f'<td><ul class="agencies">{"".join(ags)}</ul></td>'
                    f'<td>{html.escape(display_date(deadline)) if deadline else ""}</td>'
                    f'<td>{t.get("page") or ""}</td></tr>')
    if not rows:
        return '<p class="muted">Không có nhiệm vụ.</p>'
    return ('<table class="tasks"><tr><th>Mục</th><th>Nhiệm vụ</th><th>Cơ quan thực hiện (vai trò)</th>'
            '<th>Thời hạn</th><th>Tr.</th></tr>' + "".join(rows) + "</table>")


def _doc_needs_review(doc: dict, suggestions: list[dict]) -> bool:
    return bool(doc.get("needs_review") or suggestions
                or any(w.get("code") == "invalid_date" for w in doc.get("warnings") or [])
                or any(_duty_flag(t, a) for t in doc.get("tasks") or [] for a in t.get("agencies") or []))


def render_document(doc: dict, out_dir: Path, suggestions: list[dict], image_dirs: Iterable[Any] = ()) -> str:
    anchor = f"doc-{doc['doc_id']}"
    title = " ".join(x for x in [doc.get("doc_type"), doc.get("number_symbol")] if x) or "(không rõ loại, số)"
    review = _doc_needs_review(doc, suggestions)
    warnings = "".join(f"<li>[{html.escape(str(w.get('code')))}] {html.escape(str(w.get('message') or ''))}"
                       f"{' (tr. ' + str(w['page']) + ')' if w.get('page') else ''}</li>"
                       for w in doc.get("warnings") or [])
    pages = render_pages(doc, out_dir, image_dirs)
    return (f'<article class="doc{" needs-review" if review else ""}" id="{anchor}" data-doc-id="{doc["doc_id"]}">'
            f'<h2>{html.escape(title)} <span class="muted">— {html.escape(doc.get("source") or "")}</span>'
            f'{REVIEW_BADGE if review else ""}</h2>'
            f'<div class="cols"><div class="fields">{render_fields(doc, anchor, suggestions)}'
            f'{WARN_OPEN + warnings + "</ul>" if warnings else ""}'
            f'<h3>Nhiệm vụ</h3>{render_tasks(doc)}</div>'
            f'<div class="source">{pages}<pre class="text">{render_text(doc, anchor)}</pre></div></div></article>')


def _link_items(links: Any) -> Iterator[str]:
    for c in links.get("citations", []):
        yield (f'<li class="citation">{html.escape(c.get("from_source") or c["from_doc"])} dẫn chiếu '
               f'<a href="#doc-{c["to_doc"]}">{html.escape(c.get("to_number_symbol") or c["to_doc"])}</a></li>')
    for d in links.get("duplicates", []):
        yield (f'<li class="duplicate">Trùng số, ký hiệu {html.escape(d.get("number_symbol") or "")}: '
               + ", ".join(f'<a href="#doc-{x["doc_id"]}">{html.escape(x.get("source") or x["doc_id"])}</a>'
                           for x in d["documents"]) + "</li>")
    for s in links.get("date_suggestions", []):
        yield (f'<li class="date-suggestion">Ngày của <a href="#doc-{s["doc_id"]}">'
               f'{html.escape(s.get("number_symbol") or s.get("source") or "")}</a> có thể là '
               f'{html.escape(s["suggested_display"])}</li>')


def links_chunks(links: Any) -> Iterator[str]:
    """The links section of the page piece by piece (nothing when there is no link); ``links``:
    links.json as a dict or a ``pipeline.links.Links`` read from disk."""
    if not links:
        return
    items = _link_items(links)
    first = next(items, None)
    if first is None:
        return
    yield '<section class="links"><h3>Liên kết giữa các văn bản</h3><ul>'
    yield first
    yield from items
    yield "</ul></section>"


def render_links(links: Optional[dict]) -> str:
    return "".join(links_chunks(links))


def review_summary(doc: dict) -> dict:
    """What the page needs of a document to order it and list it (not to show it): doc_id,
    source, number and symbol, its duty count and whether it needs review before the date
    suggestions of links.json are known."""
    return {"doc_id": doc["doc_id"], "source": doc.get("source"), "number_symbol": doc.get("number_symbol"),
            "n_duties": sum(len(t.get("agencies") or []) for t in doc.get("tasks") or []),
            "review": _doc_needs_review(doc, [])}


def page_chunks(summaries: Iterable[dict], load: Callable[[str], dict], out_dir: Path,
                links: Optional[dict] = None, report: Optional[dict] = None, max_documents: int = 300,
                image_dirs: Iterable[Any] = ()) -> Iterator[str]:
    """review.html piece by piece: the head, the list of documents and the links, then one
    ``<article>`` per shown document (``load(doc_id)`` gives its record, used and dropped),
    then the tail.  ``summaries``: :func:`review_summary` of every document."""
    from pipeline.links import suggestions_map
    docs = sorted(summaries, key=lambda d: d.get("source") or "")
    suggestions = suggestions_map(links)
    flags = [bool(d["review"] or suggestions.get(d["doc_id"])) for d in docs]
    ordered = [d for d, f in zip(docs, flags) if f] + [d for d, f in zip(docs, flags) if not f]
    n_flagged = sum(flags)
    shown, n_omitted = ordered[:max_documents], max(0, len(ordered) - max_documents)
    n_duties = sum(d["n_duties"] for d in docs)
    nav = " ".join(f'<a href="#doc-{d["doc_id"]}">{"⚠ " if i < n_flagged else ""}'
                   f'{html.escape(d.get("number_symbol") or d.get("source") or d["doc_id"])}</a>'
                   for i, d in enumerate(shown))
    more = (f'<p class="muted">{n_omitted} văn bản không hiển thị (giới hạn {max_documents}).</p>'
            if n_omitted else "")
    run = ""
    if report and report.get("files") is not None:
        run = f' · {report.get("files")} tệp, {report.get("seconds", "?")} giây'
    yield ('<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8">'
           '<meta name="viewport" content="width=device-width, initial-scale=1">'
           f'<title>Kiểm tra kết quả đọc văn bản</title><style>{CSS}</style></head><body>'
           f'<header class="run"><h1>Kiểm tra kết quả đọc văn bản</h1>'
           f'<div>{len(docs)} văn bản, {n_duties} nhiệm vụ-cơ quan, {n_flagged} văn bản cần kiểm tra{run}</div>'
           f'</header><nav class="docs">{nav}{more}</nav>')
    yield from links_chunks(links)
    for d in shown:
        yield render_document(load(d["doc_id"]), out_dir, suggestions.get(d["doc_id"], []), image_dirs)
    yield "</body></html>\n"


def render_page(documents: Iterable[dict], out_dir: Path, links: Optional[dict] = None,
                report: Optional[dict] = None, max_documents: int = 300, image_dirs: Iterable[Any] = ()) -> str:
    docs = list(documents)
    by_id = {d["doc_id"]: d for d in docs}
    return "".join(page_chunks([review_summary(d) for d in docs], by_id.__getitem__, Path(out_dir), links,
                               report, max_documents, image_dirs))


def write_review_page(out_dir: Path, documents: Iterable[dict], links: Optional[dict] = None,
                      report: Optional[dict] = None, max_documents: int = 300,
                      image_dirs: Iterable[Any] = ()) -> Path:
    """Write OUT/review.html. Page images come from ``pages[].image_path`` or, failing that,
    from ``<dir>/<doc_id>_p<n>.png`` in one of ``image_dirs`` (the OCR stage's keep_images)."""
    docs = list(documents)
    by_id = {d["doc_id"]: d for d in docs}
    return write_review_page_streamed(out_dir, [review_summary(d) for d in docs], by_id.__getitem__,
                                      links, report, max_documents, image_dirs)


def write_review_page_streamed(out_dir: Path, summaries: Iterable[dict], load: Callable[[str], dict],
                               links: Optional[dict] = None, report: Optional[dict] = None,
                               max_documents: int = 300, image_dirs: Iterable[Any] = ()) -> Path:
    """Write OUT/review.html one document at a time (a temporary file renamed into place):
    at most ``max_documents`` are shown (those that need review first), each loaded with
    ``load(doc_id)`` when its turn comes, so that the page costs one record of memory."""
    from pipeline.outputs import atomic_writer
    path = Path(out_dir) / "review.html"
    with atomic_writer(path) as fh:
        for chunk in page_chunks(summaries, load, Path(out_dir), links, report, max_documents, image_dirs):
            fh.write(chunk)
    return path
