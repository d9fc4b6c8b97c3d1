"""Agreement with the SILVER labels of ../shared/docs/manifest.tsv (not hand-checked).

Silver issuers are written several ways (upper-case header, province only), so an issuer
agrees when either normalized form contains the other; dates are compared as ISO.
"""
from __future__ import annotations

import csv
import json
from pathlib import Path

from extractors.dates import LONG_DATE, iso_date
from normalizers.unicode import match_key

FIELDS = ["doc_type", "number_symbol", "issue_date", "issuer", "signer"]


def _silver_date(text: str):
    m = LONG_DATE.search(text or "")
    return iso_date(m.group("d"), m.group("m"), m.group("y"))[0] if m else None


def compare(manifest: Path, pred_dir: Path) -> dict:
    preds = {}
    for f in (Path(pred_dir) / "documents").glob("*.json"):
        d = json.loads(f.read_text(encoding="utf-8"))
        preds[Path(d["source"]).name] = d
    rows = list(csv.DictReader(open(manifest, encoding="utf-8"), delimiter="\t"))
    agree = {f: 0 for f in FIELDS}
    total = {f: 0 for f in FIELDS}
    disagreements = []
    for row in rows:
        d = preds.get(row["file"])
        if d is None:
            disagreements.append({"file": row["file"], "field": "*", "silver": "document", "ours": None})
            continue
        checks = {
            "doc_type": (row["doc_type"], d.get("doc_type"), lambda s, o: match_key(s) == match_key(o or "")),
            "number_symbol": (row["doc_number"], d.get("number_symbol"),
                              lambda s, o: match_key(s).replace(" ", "") == match_key(o or "").replace(" ", "")),
            "issue_date": (_silver_date(row["date"]), d.get("issue_date"), lambda s, o: s == o),
            "issuer": (row["issuer"], d.get("issuer"),
                       lambda s, o: bool(o) and (match_key(s) in match_key(o) or match_key(o) in match_key(s)
                                                 or match_key(s).split()[-2:] == match_key(o).split()[-2:])),
            "signer": (row["signer"], (d.get("signer") or {}).get("name"), lambda s, o: match_key(s) == match_key(o or "")),
        }
        for field, (silver, ours, same) in checks.items():
            if not silver:
                continue
            total[field] += 1
            if same(silver, ours):
                agree[field] += 1
            else:
                disagreements.append({"file": row["file"], "field": field, "silver": silver, "ours": ours})
    all_total = sum(total.values()) or 1
    return {"agreement": round(sum(agree.values()) / all_total, 4),
            "by_field": {f: round(agree[f] / total[f], 4) if total[f] else None for f in FIELDS},
            "checked": total, "disagreements": disagreements}
