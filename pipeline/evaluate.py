"""Score predicted records against gold YAML files (RECORDS.md, "How a scorer compares")."""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Optional

import yaml
from rapidfuzz import fuzz

from normalizers.unicode import match_key

HEADER_FIELDS = ["doc_type", "number", "symbol", "number_symbol", "issue_date", "place", "issuer", "subject"]
SIGNER_FIELDS = ["authority", "capacity", "title", "name"]


def norm(value: Any) -> Optional[str]:
    if value is None:
        return None
    s = match_key(str(value))
    return s or None


def agencies_match(a: str, b: str) -> bool:
    na, nb = norm(a) or "", norm(b) or ""
    if not na or not nb:
        return False
    return na == nb or na in nb or nb in na or fuzz.token_set_ratio(na, nb) >= 85


def set_f1(gold: list[str], pred: list[str]) -> dict:
    g, p = {norm(x) for x in gold if norm(x)}, {norm(x) for x in pred if norm(x)}
    tp = len(g & p)
    return _prf(tp, len(p), len(g))


def _prf(tp: int, n_pred: int, n_gold: int) -> dict:
    precision = tp / n_pred if n_pred else (1.0 if not n_gold else 0.0)
    recall = tp / n_gold if n_gold else (1.0 if not n_pred else 0.0)
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"tp": tp, "pred": n_pred, "gold": n_gold, "precision": round(precision, 4),
            "recall": round(recall, 4), "f1": round(f1, 4)}


def in_scope(task_id: str, prefixes: list[str]) -> bool:
    return any(task_id == p or task_id.startswith(p + ".") for p in prefixes)


def duty_triples(tasks: list[dict], prefixes: list[str]) -> list[tuple[str, str, str]]:
    return [(t["id"], a["name"], a["role"]) for t in tasks if in_scope(str(t["id"]), prefixes)
            for a in t.get("agencies") or []]


def duty_f1(gold: list[tuple], pred: list[tuple]) -> tuple[dict, list, list]:
    """Greedy one-to-one matching of (task_id, agency, role) with the agency-name rule."""
    unmatched = list(pred)
    missed = []
    tp = 0
    for g in gold:
        hit = next((p for p in unmatched if p[0] == g[0] and p[2] == g[2] and agencies_match(p[1], g[1])), None)
        if hit:
            unmatched.remove(hit)
            tp += 1
        else:
            missed.append(g)
    return _prf(tp, len(pred), len(gold)), missed, unmatched


def score_document(gold: dict, pred: Optional[dict]) -> dict:
    pred = pred or {}
    fields = {}
    for f in HEADER_FIELDS:
        fields[f] = _compare(gold.get(f), pred.get(f))
    for f in SIGNER_FIELDS:
        fields[f"signer.{f}"] = _compare((gold.get("signer") or {}).get(f), (pred.get("signer") or {}).get(f))
    refs_g = [r["number_symbol"] for r in gold.get("references") or []]
    refs_p = [r["number_symbol"] for r in pred.get("references") or []]
    prefixes = [str(p) for p in gold.get("scored_tasks") or []]
    d_f1, missed, extra = duty_f1(duty_triples(gold.get("tasks") or [], prefixes),
                                  duty_triples(pred.get("tasks") or [], prefixes))
    return {
        "source": gold.get("source"),
        "found": bool(pred),
        "fields": fields,
        "recipients": set_f1(gold.get("recipients") or [], pred.get("recipients") or []),
        "distribution": set_f1(gold.get("distribution") or [], pred.get("distribution") or []),
        "references": set_f1(refs_g, refs_p),
        "duties": d_f1,
        "duties_missed": [list(x) for x in missed],
        "duties_extra": [list(x) for x in extra],
    }


def _compare(gold: Any, pred: Any) -> str:
    g, p = norm(gold), norm(pred)
    if g == p:
        return "right"
    if p is None:
        return "missing"
    return "wrong"


def load_predictions(pred_dir: Path) -> dict[str, dict]:
    docs = {}
    folder = pred_dir / "documents" if (pred_dir / "documents").is_dir() else pred_dir
    for f in sorted(folder.glob("*.json")):
        d = json.loads(f.read_text(encoding="utf-8"))
        docs[Path(d.get("source", "")).name] = d
    return docs


def evaluate_dirs(gold_dir: Path, pred_dir: Path) -> dict:
    preds = load_predictions(Path(pred_dir))
    per_doc = []
    for gf in sorted(Path(gold_dir).glob("*.yaml")):
        gold = yaml.safe_load(gf.read_text(encoding="utf-8"))
        per_doc.append(score_document(gold, preds.get(Path(gold["source"]).name)))
    return {"documents": per_doc, "summary": summarize(per_doc)}


def summarize(per_doc: list[dict]) -> dict:
    counts = {"right": 0, "wrong": 0, "missing": 0}
    header = {"right": 0, "wrong": 0, "missing": 0}
    by_field: dict[str, dict] = {}
    for d in per_doc:
        for f, verdict in d["fields"].items():
            counts[verdict] += 1
            by_field.setdefault(f, {"right": 0, "wrong": 0, "missing": 0})[verdict] += 1
            if not f.startswith("signer."):
                header[verdict] += 1
    tp = sum(d["duties"]["tp"] for d in per_doc)
    n_pred = sum(d["duties"]["pred"] for d in per_doc)
    n_gold = sum(d["duties"]["gold"] for d in per_doc)
    total = sum(counts.values()) or 1
    return {
        "field_accuracy": round(counts["right"] / total, 4),
        "header_accuracy": round(header["right"] / (sum(header.values()) or 1), 4),
        "fields_wrong": counts["wrong"], "fields_missing": counts["missing"],
        "by_field": by_field,
        "duties_micro": _prf(tp, n_pred, n_gold),
        "recipients_f1_mean": round(sum(d["recipients"]["f1"] for d in per_doc) / (len(per_doc) or 1), 4),
        "distribution_f1_mean": round(sum(d["distribution"]["f1"] for d in per_doc) / (len(per_doc) or 1), 4),
        "references_f1_mean": round(sum(d["references"]["f1"] for d in per_doc) / (len(per_doc) or 1), 4),
    }


def format_report(report: dict) -> str:
    lines = [f"{'document':34} {'fields':>7} {'wrong':>5} {'miss':>5} {'recip':>6} {'distr':>6} {'refs':>6} {'dutyF1':>7}"]
    for d in report["documents"]:
        v = list(d["fields"].values())
        lines.append(f"{(d['source'] or '')[:34]:34} {v.count('right') / len(v):7.3f} {v.count('wrong'):5d} "
                     f"{v.count('missing'):5d} {d['recipients']['f1']:6.3f} {d['distribution']['f1']:6.3f} "
                     f"{d['references']['f1']:6.3f} {d['duties']['f1']:7.3f}")
        for f, verdict in d["fields"].items():
            if verdict != "right":
                lines.append(f"    {verdict:7} {f}")
        for m in d["duties_missed"]:
            lines.append(f"    missed  duty {m}")
        for m in d["duties_extra"]:
            lines.append(f"    extra   duty {m}")
    s = report["summary"]
    lines.append(f"fields {s['field_accuracy']:.4f} (header {s['header_accuracy']:.4f}; wrong {s['fields_wrong']}, "
                 f"missing {s['fields_missing']}); duties F1 {s['duties_micro']['f1']:.4f} "
                 f"(P {s['duties_micro']['precision']:.3f} R {s['duties_micro']['recall']:.3f}); "
                 f"recipients {s['recipients_f1_mean']:.3f}; distribution {s['distribution_f1_mean']:.3f}; "
                 f"references {s['references_f1_mean']:.3f}")
    return "\n".join(lines)
