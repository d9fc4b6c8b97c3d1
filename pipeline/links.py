"""Archive-wide links between documents (OUT/links.json).

- citations: a document's ``references[]`` matched against the other documents of the run
  by number and symbol (and issuer and year when both sides have them);
- duplicates: documents with the same number, symbol and issuer (and no different year);
- date suggestions: a document whose issue date the pipeline could not read (null with an
  ``invalid_date`` warning, or partial) or read differently from how another document
  cites it gets the cited date offered as a correction, with the citing text as evidence.

Nothing here changes a document: the suggestions are for a clerk (the review page and
the task list show them).
"""
from __future__ import annotations

import json
import re
from collections import defaultdict
from pathlib import Path
from typing import Any, Iterable, Iterator, Optional

from pipeline.ids import fold, normalize_number_symbol
from pipeline.outputs import Spool, json_at, write_json_array

_ABBREVIATIONS = [
    (r"\bubnd\b", "uy ban nhan dan"),
    (r"\bhdnd\b", "hoi dong nhan dan"),
    (r"\bttg\b", "thu tuong chinh phu"),
    (r"\btw\b", "trung uong"),
    (r"\btt\.?\s", "thuong truc "),
]


def _issuer_words(value: Optional[str]) -> list[str]:
    v = fold(value or "")
    for pattern, repl in _ABBREVIATIONS:
        v = re.sub(pattern, repl, v)
    return re.findall(r"[0-9a-z]+", v)


def issuers_compatible(a: Optional[str], b: Optional[str]) -> Optional[bool]:
    """True/False when both are known; None when either is missing."""
    wa, wb = _issuer_words(a), _issuer_words(b)
    if not wa or not wb:
        return None
    sa, sb = " ".join(wa), " ".join(wb)
    if sa == sb or f" {sa} " in f" {sb} " or f" {sb} " in f" {sa} ":
        return True
    ta, tb = set(wa), set(wb)
    return len(ta & tb) / max(len(ta | tb), 1) >= 0.85


def _year(date: Optional[str]) -> Optional[str]:
    return date[:4] if isinstance(date, str) and re.match(r"^\d{4}", date) else None


def _years_agree(a: Optional[str], b: Optional[str]) -> bool:
    ya, yb = _year(a), _year(b)
    return ya is None or yb is None or ya == yb


def display_date(iso: Optional[str]) -> str:
    """``2021-10-13`` -> ``13/10/2021``; partial dates keep what they have."""
    if not iso:
        return ""
    parts = iso.split("-")
    return "/".join(reversed(parts)) if all(p.isdigit() for p in parts) else iso


def citation_snippet(text: str, number_symbol: str, width: int = 90,
                     folded: Optional[str] = None) -> Optional[str]:
    """The words around the first place ``text`` cites ``number_symbol`` (spacing and diacritics
    ignored); ``folded``: ``fold(text)`` when the caller has it already."""
    if not text or not number_symbol:
        return None
    if folded is None:
        folded = fold(text)
    target = normalize_number_symbol(number_symbol).lower()
    pattern = r"\s*".join(re.escape(ch) for ch in target)
    m = re.search(pattern, folded)
    if not m:
        return None
    start = max(0, m.start() - width)
    end = min(len(text), m.end() + width)
    # widen to word boundaries
    while start > 0 and not text[start - 1].isspace():
        start -= 1
    while end < len(text) and not text[end].isspace():
        end += 1
    snippet = re.sub(r"\s+", " ", text[start:end]).strip()
    return ("… " if start > 0 else "") + snippet + (" …" if end < len(text) else "")


def _has_invalid_date_warning(doc: dict) -> bool:
    return any((w or {}).get("code") == "invalid_date" for w in doc.get("warnings") or [])


SUMMARY_FIELDS = ("doc_id", "source", "number_symbol", "doc_type", "issuer", "issue_date")


def link_summary(doc: dict[str, Any]) -> dict[str, Any]:
    """What :func:`build_links` needs of a document, without its text: the header fields,
    the warning codes, whether the date is flagged, the references, and the citation snippet
    of each cited number and symbol (``_snippets``, read from the text here).  A run keeps one
    of these per document instead of the whole record; ``build_links`` over the summaries
    gives the same links as over the documents."""
    summary: dict[str, Any] = {k: doc.get(k) for k in SUMMARY_FIELDS}
    summary["warnings"] = [{"code": (w or {}).get("code")} for w in doc.get("warnings") or []]
    summary["needs_review"] = ["issue_date"] if "issue_date" in (doc.get("needs_review") or []) else []
    summary["references"] = doc.get("references") or []
    snippets: dict[str, Optional[str]] = {}
    text, folded = doc.get("text") or "", None
    for ref in summary["references"]:
        ns = (ref or {}).get("number_symbol")
        if ns and ns not in snippets:
            if folded is None and text:
                folded = fold(text)
            snippets[ns] = citation_snippet(text, ns, folded=folded)
    summary["_snippets"] = snippets
    return summary


def _snippet(doc: dict[str, Any], ns: str) -> Optional[str]:
    snippets = doc.get("_snippets")
    if snippets is not None and ns in snippets:
        return snippets[ns]
    return citation_snippet(doc.get("text") or "", ns)


def build_links(documents: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Links between these documents (full records or :func:`link_summary` summaries)."""
    docs = [d for d in documents if d]
    by_ns: dict[str, list[dict]] = defaultdict(list)
    for d in docs:
        if d.get("number_symbol"):
            by_ns[normalize_number_symbol(d["number_symbol"])].append(d)

    citations = []
    unresolved = []
    date_evidence: dict[str, list[dict]] = defaultdict(list)   # target doc_id -> evidence
    for citing in docs:
        for ref in citing.get("references") or []:
            ns = (ref or {}).get("number_symbol")
            if not ns:
                continue
            candidates = _cited(citing, ref, ns, by_ns.get(normalize_number_symbol(ns), []))
            if not candidates:
                unresolved.append({"from_doc": citing["doc_id"], "from_source": citing.get("source"),
                                   "reference": ref})
                continue
            snippet = _snippet(citing, ns)
            for target, issuer_ok in candidates:
                citations.append(_citation(citing, ref, target, issuer_ok, snippet))
                evidence = _date_evidence(citing, ref, target, snippet)
                if evidence is not None:
                    date_evidence[target["doc_id"]].append(evidence)

    by_id = {d["doc_id"]: d for d in docs}
    suggestions = []
    for doc_id, evidence in date_evidence.items():
        suggestions.extend(_suggestions(doc_id, by_id[doc_id], evidence))

    duplicates = []
    for ns, group in by_ns.items():
        if len(group) >= 2:
            duplicates.extend(_duplicates(group))

    return {"citations": citations, "duplicates": duplicates, "date_suggestions": suggestions,
            "unresolved_references": unresolved,
            "counts": {"documents": len(docs), "citations": len(citations), "duplicates": len(duplicates),
                       "date_suggestions": len(suggestions), "unresolved_references": len(unresolved)}}


def _cited(citing: dict, ref: dict, ns: str, targets: Iterable[dict]) -> list[tuple[dict, Optional[bool]]]:
    """The documents among ``targets`` (same number and symbol) that ``ref`` can mean, each with
    whether the issuers agree (None: unknown)."""
    candidates = []
    for target in targets:
        if target["doc_id"] == citing["doc_id"]:
            continue
        issuer_ok = issuers_compatible(ref.get("issuer"), target.get("issuer"))
        if issuer_ok is False:
            continue
        if not _years_agree(ref.get("issue_date"), target.get("issue_date")) \
                and not _year_in_symbol(ns, target.get("issue_date")):
            # numbering restarts every year: another year is another document,
            # unless the target's own date is the doubtful part
            if not _date_doubtful(target):
                continue
        candidates.append((target, issuer_ok))
    return candidates


def _date_evidence(citing: dict, ref: dict, target: dict, snippet: Optional[str]) -> Optional[dict]:
    """A citation giving the target another full date than its own: evidence for a suggestion."""
    cited_date = ref.get("issue_date")
    if not (cited_date and re.match(r"^\d{4}-\d{2}-\d{2}$", cited_date)
            and cited_date != target.get("issue_date")):
        return None
    return {"date": cited_date, "citing_doc": citing["doc_id"], "citing_source": citing.get("source"),
            "citing_number_symbol": citing.get("number_symbol"),
            "citing_doc_type": citing.get("doc_type"), "snippet": snippet}


def _citation(citing: dict, ref: dict, target: dict, issuer_ok: Optional[bool], snippet: Optional[str]) -> dict:
    cited_date = ref.get("issue_date")
    return {
        "from_doc": citing["doc_id"], "from_source": citing.get("source"),
        "from_number_symbol": citing.get("number_symbol"), "from_doc_type": citing.get("doc_type"),
        "to_doc": target["doc_id"], "to_source": target.get("source"),
        "to_number_symbol": target.get("number_symbol"), "to_doc_type": target.get("doc_type"),
        "reference": ref,
        "match": "number_symbol+issuer" if issuer_ok else "number_symbol",
        "date_agrees": (cited_date == target.get("issue_date")) if cited_date else None,
        "snippet": snippet,
    }


def _suggestions(doc_id: str, target: dict, evidence: list[dict]) -> list[dict]:
    """The date suggestions for one document from the dates other documents cite it with."""
    current = target.get("issue_date")
    if current is None:
        reason = "invalid_date" if _has_invalid_date_warning(target) else "missing"
    elif all(e["date"].startswith(current) for e in evidence) and len(current) < 10:
        reason = "partial"
    else:
        reason = "differs"
    dates: dict[str, list[dict]] = defaultdict(list)
    for e in evidence:
        dates[e["date"]].append(e)
    return [{
        "doc_id": doc_id, "source": target.get("source"),
        "number_symbol": target.get("number_symbol"),
        "field": "issue_date", "current": current, "suggested": date,
        "suggested_display": display_date(date), "reason": reason,
        "agreeing_citations": len(ev), "contested": len(dates) > 1,
        "evidence": [{k: e[k] for k in ("citing_doc", "citing_source", "citing_number_symbol",
                                        "citing_doc_type", "snippet")} for e in ev],
    } for date, ev in sorted(dates.items(), key=lambda kv: (-len(kv[1]), kv[0]))]


def _duplicates(group: list[dict]) -> list[dict]:
    """Clusters of the documents of one number and symbol that are the same letter."""
    clusters: list[list[dict]] = []
    for d in group:
        for cluster in clusters:
            head = cluster[0]
            if issuers_compatible(head.get("issuer"), d.get("issuer")) is not False \
                    and _years_agree(head.get("issue_date"), d.get("issue_date")):
                cluster.append(d)
                break
        else:
            clusters.append([d])
    return [{
        "number_symbol": cluster[0].get("number_symbol"),
        "issuer": next((d.get("issuer") for d in cluster if d.get("issuer")), None),
        "documents": [{"doc_id": d["doc_id"], "source": d.get("source"),
                       "issue_date": d.get("issue_date")} for d in cluster],
    } for cluster in clusters if len(cluster) > 1]


def _date_doubtful(doc: dict) -> bool:
    return doc.get("issue_date") is None or _has_invalid_date_warning(doc) \
        or "issue_date" in (doc.get("needs_review") or [])


def _year_in_symbol(ns: str, date: Optional[str]) -> bool:
    m = re.search(r"/(\d{4})/", ns or "")
    return bool(m and _year(date) == m.group(1))


def write_links(out_dir: Path, documents: Iterable[dict[str, Any]]) -> dict[str, Any]:
    """Write OUT/links.json of these documents (records or :func:`link_summary` summaries) and
    return the links (the dict :func:`build_links` gives).  Built on disk (:class:`LinkSpool`)."""
    with LinkSpool() as spool:
        for doc in documents:
            spool.add(doc)
        return spool.write(out_dir).to_dict()


def suggestions_map(links) -> Any:
    """doc_id -> its date suggestions (``.get(doc_id, default)``), for links as a dict or as the
    :class:`Links` of a :class:`LinkSpool`."""
    if links is None:
        return {}
    if isinstance(links, Links):
        return links.suggestions
    suggestions: dict[str, list[dict]] = {}
    for s in links.get("date_suggestions", []):
        suggestions.setdefault(s["doc_id"], []).append(s)
    return suggestions


KINDS = ("citations", "duplicates", "date_suggestions", "unresolved_references")


class LinkSpool(Spool):
    """links.json built on disk, so that neither the documents' summaries nor the links count in
    memory (an archive's references grow with it: ~10 per letter, most of them unresolved).

    ``add(doc)`` keeps the :func:`link_summary` of a document (or a summary) in a private
    temporary SQLite database (deleted by SQLite when the connection closes, at once on POSIX);
    ``write(out)`` resolves the references one citing document at a time against an index of
    the documents by normalized number and symbol, keeps citations, unresolved references,
    evidence, suggestions and duplicates in tables, writes links.json from them piece by piece
    and returns a :class:`Links` over them (valid until ``close()``).  The result is that of
    :func:`build_links` over the same documents, and links.json its ``to_json`` bytes."""

    def __init__(self):
        super().__init__("""
            CREATE TABLE docs(seq INTEGER PRIMARY KEY, ns TEXT, target TEXT NOT NULL, summary TEXT NOT NULL);
            CREATE INDEX docs_ns ON docs(ns, seq);
            CREATE TABLE by_id(doc_id TEXT PRIMARY KEY, seq INTEGER NOT NULL);
            CREATE TABLE evidence(n INTEGER PRIMARY KEY, target TEXT NOT NULL, item TEXT NOT NULL);
            CREATE INDEX evidence_target ON evidence(target, n);
            CREATE TABLE citations(k INTEGER PRIMARY KEY, item TEXT NOT NULL);
            CREATE TABLE unresolved_references(k INTEGER PRIMARY KEY, item TEXT NOT NULL);
            CREATE TABLE duplicates(k INTEGER PRIMARY KEY, item TEXT NOT NULL);
            CREATE TABLE date_suggestions(k INTEGER PRIMARY KEY, doc_id TEXT NOT NULL, item TEXT NOT NULL);
            CREATE INDEX date_suggestions_doc ON date_suggestions(doc_id, k);
        """)
        self.n_docs = 0

    def add(self, doc: dict[str, Any]) -> None:
        if not doc:                       # build_links leaves them out
            return
        summary = doc if "_snippets" in doc else link_summary(doc)
        target = {k: v for k, v in summary.items() if k not in ("references", "_snippets")}
        ns = normalize_number_symbol(summary["number_symbol"]) if summary.get("number_symbol") else None
        seq = self.n_docs
        self.n_docs += 1
        self.db.execute("INSERT INTO docs VALUES (?, ?, ?, ?)",
                        (seq, ns, json.dumps(target), json.dumps(summary)))
        self.db.execute("INSERT INTO by_id VALUES (?, ?) ON CONFLICT(doc_id) DO UPDATE SET seq = excluded.seq",
                        (summary["doc_id"], seq))

    def _targets(self, ns: str) -> Iterator[dict]:
        for (target,) in self.db.execute("SELECT target FROM docs WHERE ns = ? ORDER BY seq", (ns,)):
            yield json.loads(target)

    def write(self, out_dir: Path) -> "Links":
        from pipeline.outputs import atomic_writer
        db = self.db
        for kind in ("evidence",) + KINDS:
            db.execute(f"DELETE FROM {kind}")
        n = dict.fromkeys(KINDS, 0)
        n_evidence = 0

        def put(kind: str, item: dict, *extra) -> None:
            db.execute(f"INSERT INTO {kind} VALUES (?, {'?, ' * len(extra)}?)", (n[kind], *extra, json.dumps(item)))
            n[kind] += 1

        # citations, unresolved references and date evidence: one citing document at a time
        for (summary,) in db.execute("SELECT summary FROM docs ORDER BY seq"):
            citing = json.loads(summary)
            for ref in citing.get("references") or []:
                ns = (ref or {}).get("number_symbol")
                if not ns:
                    continue
                candidates = _cited(citing, ref, ns, self._targets(normalize_number_symbol(ns)))
                if not candidates:
                    put("unresolved_references", {"from_doc": citing["doc_id"], "from_source": citing.get("source"),
                                                  "reference": ref})
                    continue
                snippet = _snippet(citing, ns)
                for target, issuer_ok in candidates:
                    put("citations", _citation(citing, ref, target, issuer_ok, snippet))
                    evidence = _date_evidence(citing, ref, target, snippet)
                    if evidence is not None:
                        db.execute("INSERT INTO evidence VALUES (?, ?, ?)",
                                   (n_evidence, target["doc_id"], json.dumps(evidence)))
                        n_evidence += 1

        # date suggestions, target by target in the order they first got evidence
        targets = db.execute("SELECT target FROM evidence GROUP BY target ORDER BY MIN(n)").fetchall()
        for (doc_id,) in targets:
            (target,) = db.execute("SELECT d.target FROM by_id b JOIN docs d ON d.seq = b.seq "
                                   "WHERE b.doc_id = ?", (doc_id,)).fetchone()
            evidence = [json.loads(e) for (e,) in
                        db.execute("SELECT item FROM evidence WHERE target = ? ORDER BY n", (doc_id,))]
            for suggestion in _suggestions(doc_id, json.loads(target), evidence):
                put("date_suggestions", suggestion, doc_id)
        del targets

        # duplicates: documents with the same number and symbol, group by group
        groups = db.execute("SELECT ns FROM docs WHERE ns IS NOT NULL GROUP BY ns HAVING COUNT(*) > 1 "
                            "ORDER BY MIN(seq)").fetchall()
        for (ns,) in groups:
            for duplicate in _duplicates(list(self._targets(ns))):
                put("duplicates", duplicate)
        del groups

        links = Links(self, {"documents": self.n_docs, **n})
        with atomic_writer(Path(out_dir) / "links.json") as fh:
            fh.write("{")
            for kind in KINDS:
                fh.write(f'\n  "{kind}": ')
                write_json_array(fh, links.get(kind), 1)
                fh.write(",")
            fh.write('\n  "counts": ' + json_at(links.counts, 1) + "\n}\n")
        return links


class _SuggestionsView:
    def __init__(self, spool: LinkSpool):
        self.spool = spool

    def get(self, doc_id: str, default: Any = None) -> Any:
        found = [json.loads(item) for (item,) in self.spool.db.execute(
            "SELECT item FROM date_suggestions WHERE doc_id = ? ORDER BY k", (doc_id,))]
        return found or default


class Links:
    """The links of a :class:`LinkSpool`, read from its tables: ``get(kind)`` iterates one of
    citations, duplicates, date_suggestions, unresolved_references (``get("counts")``: the
    counts), ``suggestions.get(doc_id)`` the date suggestions of one document; ``to_dict()``
    is the dict :func:`build_links` returns."""

    def __init__(self, spool: LinkSpool, counts: dict):
        self.spool = spool
        self.counts = counts
        self.suggestions = _SuggestionsView(spool)

    def __bool__(self) -> bool:
        return True

    def get(self, kind: str, default: Any = None) -> Any:
        if kind == "counts":
            return dict(self.counts)
        if kind not in KINDS:
            return default
        return (json.loads(item) for (item,) in self.spool.db.execute(f"SELECT item FROM {kind} ORDER BY k"))

    def __getitem__(self, kind: str) -> Any:
        if kind != "counts" and kind not in KINDS:
            raise KeyError(kind)
        return self.get(kind)

    def to_dict(self) -> dict[str, Any]:
        return {**{kind: list(self.get(kind)) for kind in KINDS}, "counts": dict(self.counts)}
