"""The whole text route, run as a user runs it, scored against the hand-checked gold."""
import csv
import json
import random
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from pipeline.evaluate import evaluate_dirs
from pipeline.silver import compare

SHARED = Path(__file__).resolve().parents[2] / "shared"
if not SHARED.exists():
    SHARED = Path(__file__).resolve().parents[1] / ".." / "shared"
pytestmark = pytest.mark.skipif(not (SHARED / "gold").exists(), reason="../shared is not beside the checkout")


def run_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pipeline.cli", *args], capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def seeds_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("seeds_out")
    done = run_cli("run", str(SHARED / "seeds"), "--out", str(out), "--workers", "1")
    assert done.returncode == 0, done.stderr
    return out


def test_seed_records_meet_the_thresholds(seeds_run):
    report = evaluate_dirs(SHARED / "gold", seeds_run)
    by_source = {d["source"][:3]: d for d in report["documents"]}
    for seed in ("001", "002", "003", "004"):
        d = by_source[seed]
        verdicts = list(d["fields"].values())
        assert verdicts.count("right") / len(verdicts) >= 0.98, (seed, d["fields"])
        assert d["duties"]["f1"] >= 0.95, (seed, d["duties_missed"], d["duties_extra"])
        assert d["recipients"]["f1"] == 1.0 and d["references"]["f1"] == 1.0, seed


def test_outputs_of_a_run(seeds_run):
    run = json.loads((seeds_run / "run.json").read_text(encoding="utf-8"))
    assert run["files"] == 6 and not run["counts"].get("failed")   # five letters and their README
    with open(seeds_run / "duties.csv", encoding="utf-8", newline="") as fh:
        rows = list(csv.DictReader(fh))      # task texts keep their bullets on lines of their own
    assert list(rows[0])[:7] == ["doc_id", "source", "doc_type", "number_symbol", "issue_date", "issuer", "task_id"]
    jsonl = [json.loads(l) for l in (seeds_run / "duties.jsonl").read_text(encoding="utf-8").splitlines()]
    assert len(jsonl) == len(rows) > 40
    assert [(r["task_id"], r["agency"], r["role"]) for r in rows] == \
        [(j["task_id"], j["agency"], j["role"]) for j in jsonl]
    news = [json.loads(p.read_text(encoding="utf-8")) for p in (seeds_run / "documents").glob("*.json")]
    news = next(d for d in news if d["source"].startswith("003"))
    assert news["doc_type"] is None and news["issuer"] is None
    assert any(w["code"] == "not_official_letter" for w in news["warnings"])


def test_impossible_date_is_reported_not_invented(seeds_run):
    docs = [json.loads(p.read_text(encoding="utf-8")) for p in (seeds_run / "documents").glob("*.json")]
    ocr = next(d for d in docs if d["source"].startswith("000"))
    assert ocr["issue_date"] is None or ocr["issue_date"] == "2021-10-13"
    assert ocr["issue_date"] is not None or any(w["code"] == "invalid_date" for w in ocr["warnings"])


def test_real_documents_run_and_agree_with_silver_labels(tmp_path):
    docs = sorted(p for p in (SHARED / "docs").glob("*.txt"))
    sample = random.Random(7).sample(docs, 40)
    src = tmp_path / "docs"
    src.mkdir()
    for p in sample:
        shutil.copy(p, src / p.name)
    out = tmp_path / "out"
    done = run_cli("run", str(src), "--out", str(out), "--workers", "1")
    assert done.returncode == 0, done.stderr
    manifest = tmp_path / "manifest.tsv"
    rows = (SHARED / "docs" / "manifest.tsv").read_text(encoding="utf-8").splitlines()
    names = {p.name for p in sample}
    manifest.write_text("\n".join([rows[0]] + [r for r in rows[1:] if r.split("\t")[0] in names]), encoding="utf-8")
    report = compare(manifest, out)
    header = [report["by_field"][f] for f in ("doc_type", "number_symbol", "issue_date", "issuer")]
    assert min(header) >= 0.9 and sum(header) / len(header) >= 0.95, report["by_field"]
