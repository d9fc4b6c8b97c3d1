"""Batch runs: per-file isolation, executors (process pool, Dask), resume after SIGKILL, no-op re-runs.

The runs use a short pipeline (ingest, ocr, normalize) plus the stages below, loaded in every
worker through ``plugins: [tests.test_batch]``: ``test_fake_duties`` gives each document a
deterministic task tree (so duties.csv is not empty whatever the extractors do),
``test_sleep`` slows documents down so that a run can be killed mid-way, and
``test_crash`` kills its worker process on files named ``*crash*``.  Nothing here depends on
extraction quality.
"""
from __future__ import annotations

import io
import json
import os
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pipeline.config import load_config
from pipeline.model import Agency, Task
from pipeline.registry import stage

REPO = Path(__file__).resolve().parent.parent
SHARED = Path("/work/shared")
DOCS = sorted((SHARED / "docs").glob("*.txt"))
SEEDS = sorted((SHARED / "seeds").glob("0*.txt"))


# ------------------------------------------------------------------ test stages (plugins)

@stage("test_fake_duties")
def _fake_duties(doc, settings):
    n = int(doc.doc_id[:2], 16) % 3 + 1
    doc.tasks = [Task(id=str(k), text=f"nhiệm vụ {k} của {doc.doc_id[:6]}",
                      agencies=[Agency("Sở Nội vụ", "lead"),
                                Agency(f"Sở {doc.doc_id[k]}", "coordinate", needs_review=k == 2)])
                 for k in range(1, n + 1)]
    return doc


@stage("test_fake_header")
def _fake_header(doc, settings):
    """Number, date and a reference to the previous letter read from the test letters' first lines."""
    import re
    from pipeline.model import Reference
    m = re.search(r"Số: (\d+)/CV-UBND", doc.text or "")
    if m:
        k = int(m.group(1))
        doc.number_symbol, doc.issuer = f"{k}/CV-UBND", "Ủy ban nhân dân tỉnh Lai Châu"
        doc.issue_date = None if k == 4 else f"2024-03-{k % 27 + 1:02d}"
        if k:
            doc.references = [Reference(doc_type="Công văn", number_symbol=f"{k - 1}/CV-UBND",
                                        issue_date=f"2024-03-{k % 27 + 1:02d}")]
    return doc


@stage("test_sleep")
def _sleep(doc, settings):
    if settings.get("only") and settings["only"] not in Path(doc.source).name:
        return doc
    time.sleep(float(settings.get("seconds", 0.2)))
    return doc


@stage("test_crash")
def _crash(doc, settings):
    if "crash" in Path(doc.source).name:
        os.kill(os.getpid(), signal.SIGKILL)
    return doc


def inbox(tmp: Path, n: int, extra: tuple | None = None) -> Path:
    """tmp/in with the first n real documents as d0.txt … and, optionally, one more file."""
    folder = tmp / "in"
    folder.mkdir()
    for i, src in enumerate(DOCS[:n]):
        shutil.copy(src, folder / f"d{i}.txt")
    if extra:
        shutil.copy(extra[0], folder / extra[1])
    return folder


def write_config(tmp: Path, executor: dict | None = None, extra_stages: list | None = None) -> Path:
    stages = [{"name": "ingest"}, {"name": "ocr", "settings": {"lang": "vie", "page_timeout_s": 30}},
              {"name": "normalize"}, {"name": "test_fake_duties"}, *(extra_stages or [])]
    raw = {"plugins": ["tests.test_batch"], "stages": stages,
           "executor": executor or {"kind": "local"},
           "outputs": {"documents": True, "links": False, "task_list": False, "review_page": False}}
    path = tmp / "pipeline.yaml"
    path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")   # JSON is YAML
    return path


# ------------------------------------------------------------------ fixtures

TCVN3 = ("Uû ban nh©n d©n tØnh Lai Ch©u. Sè: 15/CT-UBND. ChØ thÞ vÒ viÖc t¨ng c«ng t¸c "
         "phßng chèng dÞch bÖnh trªn ®Þa bµn tØnh. Yªu cÇu c¸c së, ban, ngµnh thùc hiÖn nghiªm.\n")


def _pdf_bytes(encrypted: bool, pages: int = 1) -> bytes | None:
    try:
        import pypdf
    except ImportError:
        return None
    writer = pypdf.PdfWriter()
    for _ in range(pages):
        writer.add_blank_page(595, 842)
    if encrypted:
        writer.encrypt(user_password="mật khẩu", owner_password="owner", algorithm="AES-128")
    buf = io.BytesIO()
    writer.write(buf)
    return buf.getvalue()


def _huge_png() -> bytes:
    """A valid PNG signature and IHDR claiming 60000 x 60000 pixels (a decompression bomb)."""
    import struct
    import zlib
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 60000, 60000, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(b"\0" * 1000)) + chunk(b"IEND", b""))


# expected (status set, reason) per file of the mixed folder
EXPECTED = {
    "good/letter1.txt": ({"ok", "partial"}, None),
    "good/letter2.txt": ({"ok", "partial"}, None),
    "good/letter3.md": ({"ok", "partial"}, None),
    "good/seed.txt": ({"ok", "partial"}, None),
    "bad/corrupt.pdf": ({"failed"}, "corrupt_pdf"),
    "bad/empty.txt": ({"failed"}, "empty_file"),
    "bad/letter.doc": ({"failed"}, "unsupported_type"),
    "bad/tcvn3.txt": ({"failed"}, "legacy_encoding"),
    "bad/huge.png": ({"failed"}, "image_too_large"),
}


def make_mixed(folder: Path) -> dict:
    (folder / "good").mkdir(parents=True)
    (folder / "bad").mkdir()
    shutil.copy(DOCS[0], folder / "good/letter1.txt")
    shutil.copy(DOCS[1], folder / "good/letter2.txt")
    shutil.copy(DOCS[2], folder / "good/letter3.md")
    shutil.copy(SEEDS[1], folder / "good/seed.txt")
    rng = random.Random(5)
    (folder / "bad/corrupt.pdf").write_bytes(bytes(rng.randrange(256) for _ in range(4000)))
    (folder / "bad/empty.txt").write_bytes(b"")
    (folder / "bad/letter.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500)
    (folder / "bad/tcvn3.txt").write_bytes((TCVN3 * 4).encode("cp1252"))
    (folder / "bad/huge.png").write_bytes(_huge_png())
    (folder / ".hidden.txt").write_text("không đọc", encoding="utf-8")
    expected = dict(EXPECTED)
    enc, zero = _pdf_bytes(True), _pdf_bytes(False, pages=0)
    if enc is not None:
        (folder / "bad/encrypted.pdf").write_bytes(enc)
        (folder / "bad/zero_pages.pdf").write_bytes(zero)
        expected["bad/encrypted.pdf"] = ({"failed"}, "encrypted_pdf")
        expected["bad/zero_pages.pdf"] = ({"failed"}, "empty_file")
    return expected


def check_statuses(report: dict, expected: dict) -> None:
    got = {f["source"]: f for f in report["files_detail"]}
    assert set(got) == set(expected), sorted(set(got) ^ set(expected))
    for source, (statuses, reason) in expected.items():
        f = got[source]
        assert f["status"] in statuses, (source, f)
        if reason:
            assert f["reason"] == reason, (source, f)
    assert report["counts"].get("failed", 0) == sum(1 for s, _ in expected.values() if s == {"failed"})


def snapshot(out: Path, with_times: bool = False) -> dict:
    """Everything a run's consumers read: documents/*.json, duties.csv/jsonl, tracking rows."""
    snap = {p.name: p.read_bytes() for p in sorted((out / "documents").glob("*.json"))}
    snap["duties.csv"] = (out / "duties.csv").read_bytes()
    snap["duties.jsonl"] = (out / "duties.jsonl").read_bytes()
    conn = sqlite3.connect(out / "directives.sqlite")
    for table in ("documents", "tasks", "duties"):
        cols = [r[1] for r in conn.execute(f"PRAGMA table_info({table})")
                if with_times or r[1] not in ("created_at", "updated_at")]
        snap[f"sqlite:{table}"] = sorted(conn.execute(f"SELECT {', '.join(cols)} FROM {table}").fetchall())
    conn.close()
    return snap


# ------------------------------------------------------------------ tests

def test_mixed_folder_local_pool_then_noop_rerun(tmp_path):
    from pipeline.batch import run_paths
    expected = make_mixed(tmp_path / "in")
    cfg = load_config(write_config(tmp_path))
    out = tmp_path / "out"
    report = run_paths([str(tmp_path / "in")], out, cfg, workers=2, progress=False)
    check_statuses(report, expected)
    assert [(f["source"], f["reason"]) for f in report["skipped_files_detail"]] == \
        [(".hidden.txt", "not_a_document")]
    assert report["executor"]["kind"] == "local" and report["executor"]["workers"] == 2
    assert report["processed"] == len(expected) and report["skipped"] == 0
    assert report["duties"] > 0 and report["review_queue"]["duties_needs_review"] > 0
    assert set(report["time_per_stage"]) >= {"ingest", "normalize"}
    assert 0 < len(report["slowest"]) <= 10
    assert report["tracking"]["inserted"] > 0
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["counts"] == report["counts"]
    n_good = sum(1 for s, _ in expected.values() if s != {"failed"})
    assert len(list((out / "documents").glob("*.json"))) == n_good
    before = snapshot(out, with_times=True)
    mtimes = {p: p.stat().st_mtime_ns for p in (out / "documents").glob("*.json")}

    again = run_paths([str(tmp_path / "in")], out, cfg, workers=2, progress=False)
    assert again["processed"] == 0 and again["skipped"] == len(expected)
    assert again["executor"]["kind"] == "none"
    assert again["counts"] == report["counts"]
    t = again["tracking"]
    assert (t["inserted"], t["updated"], t["deleted"]) == (0, 0, 0) and t["unchanged"] > 0
    assert snapshot(out, with_times=True) == before
    assert {p: p.stat().st_mtime_ns for p in (out / "documents").glob("*.json")} == mtimes

    # --retry-failed redoes only the failures; --force redoes everything
    retried = run_paths([str(tmp_path / "in")], out, cfg, workers=1, retry_failed=True, progress=False)
    assert retried["processed"] == report["counts"]["failed"]
    forced = run_paths([str(tmp_path / "in")], out, cfg, workers=1, force=True, progress=False)
    assert forced["processed"] == len(expected)
    assert snapshot(out) == snapshot(out)  # readable


def test_mixed_folder_on_dask_scheduler(tmp_path):
    """--scheduler tcp://… : the same task function on a Dask cluster gives the same records."""
    from distributed import LocalCluster
    from pipeline.batch import run_paths
    expected = make_mixed(tmp_path / "in")
    cfg = load_config(write_config(tmp_path))
    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=None) as cluster:
        report = run_paths([str(tmp_path / "in")], tmp_path / "dask", cfg,
                           scheduler=cluster.scheduler_address, progress=False)
    assert report["executor"]["kind"] == "dask"
    check_statuses(report, expected)
    local = run_paths([str(tmp_path / "in")], tmp_path / "inline", cfg, workers=1, progress=False)
    assert local["executor"]["kind"] == "inline"
    assert snapshot(tmp_path / "dask") == snapshot(tmp_path / "inline")


def test_dask_local_cluster_from_config(tmp_path):
    """executor: {kind: dask} with no scheduler starts a LocalCluster."""
    from pipeline.batch import run_paths
    folder = inbox(tmp_path, 3)
    cfg = load_config(write_config(tmp_path, executor={"kind": "dask", "workers": 1, "processes": False}))
    report = run_paths([str(folder)], tmp_path / "out", cfg, progress=False)
    assert report["executor"]["kind"] == "dask" and report["executor"]["scheduler"] == "LocalCluster"
    assert report["counts"] == {"ok": 3} or sum(report["counts"].values()) == 3


def test_local_cluster_workers_run_without_the_profiler(tmp_path):
    """Dask's stack-sampling profiler costs ~25 % of the CPU on this work: the LocalCluster's
    worker processes start without it, and the driver's own Dask config is left alone."""
    import dask

    from pipeline.executors import DaskExecutor
    cfg = load_config(write_config(tmp_path, executor={"kind": "dask", "workers": 1, "processes": True}))
    with DaskExecutor(cfg, 1) as ex:
        on_workers = ex.client.run(lambda: dask.config.get("distributed.worker.profile.enabled"))
    assert list(on_workers.values()) == [False]
    assert dask.config.get("distributed.worker.profile.enabled") is True


def test_worker_crash_marks_only_that_file(tmp_path):
    from pipeline.batch import run_paths
    folder = inbox(tmp_path, 4, extra=(DOCS[5], "will_crash.txt"))
    cfg = load_config(write_config(tmp_path, extra_stages=[{"name": "test_crash"}]))
    report = run_paths([str(folder)], tmp_path / "out", cfg, workers=2, progress=False)
    got = {f["source"]: f for f in report["files_detail"]}
    assert got["will_crash.txt"]["status"] == "failed"
    assert got["will_crash.txt"]["reason"] == "worker_crashed"
    assert all(got[f"d{i}.txt"]["status"] in {"ok", "partial"} for i in range(4))
    assert report["executor"]["worker_crashes"] >= 1


def test_worker_crash_on_dask_marks_only_that_file(tmp_path):
    import dask
    from pipeline.batch import run_paths
    folder = inbox(tmp_path, 2, extra=(DOCS[5], "will_crash.txt"))
    cfg = load_config(write_config(tmp_path, executor={"kind": "dask", "workers": 1, "processes": True},
                                   extra_stages=[{"name": "test_crash"}]))
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        report = run_paths([str(folder)], tmp_path / "out", cfg, progress=False)
    got = {f["source"]: f for f in report["files_detail"]}
    assert got["will_crash.txt"]["reason"] == "worker_crashed", got["will_crash.txt"]
    assert all(got[f"d{i}.txt"]["status"] in {"ok", "partial"} for i in range(2))


@pytest.mark.parametrize("executor,workers", [({"kind": "local"}, 2),
                                              ({"kind": "dask", "processes": True}, 1)],
                         ids=["local_pool", "dask_local_cluster"])
def test_document_over_time_limit_is_stopped(tmp_path, executor, workers):
    """On Dask the late document's worker is restarted; the files queued behind it on that
    worker run on the new one."""
    from pipeline.batch import run_paths
    # sorted first: on one worker, the other files wait behind it
    folder = inbox(tmp_path, 3, extra=(DOCS[4], "0_slow.txt"))
    cfg = load_config(write_config(
        # 10 s: far above a real document's time even on a busy machine, far below the sleep
        tmp_path, executor={**executor, "document_timeout_s": 10},
        extra_stages=[{"name": "test_sleep", "settings": {"seconds": 300, "only": "slow"}}]))
    started = time.monotonic()
    report = run_paths([str(folder)], tmp_path / "out", cfg, workers=workers, progress=False)
    assert time.monotonic() - started < 120
    got = {f["source"]: f for f in report["files_detail"]}
    assert got["0_slow.txt"]["status"] == "failed" and got["0_slow.txt"]["reason"] == "document_timeout"
    assert all(got[f"d{i}.txt"]["status"] in {"ok", "partial"} for i in range(3))
    assert report["executor"]["document_timeouts"] == 1


def test_recycled_workers_do_not_hang(tmp_path):
    """More documents than workers × recycle_after: workers are replaced (CPython gh-115634)."""
    from pipeline.batch import run_paths
    folder = tmp_path / "in"
    folder.mkdir()
    for i, src in enumerate(DOCS[:12]):
        shutil.copy(src, folder / f"d{i:02}.txt")
    cfg = load_config(write_config(tmp_path, executor={"kind": "local", "recycle_after": 2}))
    report = run_paths([str(folder)], tmp_path / "out", cfg, workers=2, progress=False)
    assert report["executor"]["recycle_after"] == 2
    assert report["files"] == 12 and report["processed"] == 12


def _manifest_rows(out: Path) -> int:
    db = out / ".manifest.sqlite"
    if not db.exists():
        return 0
    try:
        conn = sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1)
        try:
            return conn.execute("SELECT COUNT(*) FROM results").fetchone()[0]
        finally:
            conn.close()
    except sqlite3.Error:
        return 0


def test_sigkill_mid_run_then_resume_equals_uninterrupted_run(tmp_path):
    from pipeline.batch import run_paths
    folder = tmp_path / "in"
    folder.mkdir()
    for i, src in enumerate(DOCS[:14]):
        shutil.copy(src, folder / f"d{i:02}.txt")
    (folder / "broken.pdf").write_bytes(b"%PDF-1.4 not really")
    (folder / "empty.txt").write_bytes(b"")
    total = 16
    cfg_path = write_config(tmp_path, extra_stages=[{"name": "test_sleep", "settings": {"seconds": 0.25}}])
    cfg = load_config(cfg_path)

    killed = tmp_path / "killed"
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.Popen([sys.executable, "-m", "pipeline.cli", "run", str(folder), "--out", str(killed),
                             "--config", str(cfg_path), "--workers", "2"],
                            cwd=REPO, env=env, start_new_session=True,
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.time() + 60
    try:
        while _manifest_rows(killed) < 3 and proc.poll() is None and time.time() < deadline:
            time.sleep(0.02)
    finally:
        os.killpg(proc.pid, signal.SIGKILL)   # the run, its pool workers and forkserver
        proc.wait()
    done = _manifest_rows(killed)
    assert 3 <= done < total, f"the run was not killed mid-way ({done} of {total} done)"
    assert not (killed / "run.json").exists()

    resumed = run_paths([str(folder)], killed, cfg, workers=2, progress=False)
    assert resumed["skipped"] == done and resumed["processed"] == total - done

    whole = run_paths([str(folder)], tmp_path / "whole", cfg, workers=2, progress=False)
    assert whole["skipped"] == 0
    assert resumed["counts"] == whole["counts"]
    a, b = snapshot(killed), snapshot(tmp_path / "whole")
    assert a.keys() == b.keys()
    for key in a:
        assert a[key] == b[key], key
    assert not list(killed.glob("documents/.*.tmp")) and not list(killed.glob(".*.tmp"))


def test_changed_file_replaces_its_rows_and_stale_json(tmp_path):
    from pipeline.batch import run_paths
    folder = tmp_path / "in"
    folder.mkdir()
    shutil.copy(DOCS[0], folder / "a.txt")
    shutil.copy(DOCS[1], folder / "b.txt")
    shutil.copy(DOCS[1], folder / "b_copy.txt")
    cfg = load_config(write_config(tmp_path))
    out = tmp_path / "out"
    first = run_paths([str(folder)], out, cfg, workers=1, progress=False)
    assert first["duplicates"] == 1
    got = {f["source"]: f for f in first["files_detail"]}
    assert got["b_copy.txt"]["duplicate_of"] == "b.txt"
    old_id = got["a.txt"]["doc_id"]
    (folder / "a.txt").write_text(DOCS[3].read_text(encoding="utf-8") + "\nđã sửa\n", encoding="utf-8")
    second = run_paths([str(folder)], out, cfg, workers=1, progress=False)
    assert second["processed"] == 1 and second["skipped"] == 1
    new_id = {f["source"]: f for f in second["files_detail"]}["a.txt"]["doc_id"]
    assert new_id != old_id
    assert not (out / "documents" / f"{old_id}.json").exists()
    conn = sqlite3.connect(out / "directives.sqlite")
    ids = {r[0] for r in conn.execute("SELECT doc_id FROM documents")}
    assert old_id not in ids and new_id in ids and len(ids) == 2
    assert not conn.execute("SELECT 1 FROM duties WHERE doc_id=?", (old_id,)).fetchall()
    conn.close()


def test_one_run_per_output_folder(tmp_path):
    import fcntl
    from pipeline.batch import run_paths
    out = tmp_path / "out"
    out.mkdir()
    cfg = load_config(write_config(tmp_path))
    with open(out / ".run.lock", "a+") as fh:
        fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        with pytest.raises(RuntimeError, match="another"):
            run_paths([str(DOCS[0])], out, cfg, workers=1, progress=False)
    assert run_paths([str(DOCS[0])], out, cfg, workers=1, progress=False)["files"] == 1


# ------------------------------------------------------------------ streaming (issue 5)

def _letter(k: int) -> str:
    return (f"ỦY BAN NHÂN DÂN TỈNH LAI CHÂU\nSố: {k}/CV-UBND\nLai Châu, ngày {k % 27 + 1} tháng 3 năm 2024\n"
            f"CÔNG VĂN\nVề việc thực hiện nhiệm vụ số {k}\n"
            + (f"Thực hiện Công văn số {k - 1}/CV-UBND ngày {k % 27 + 1}/3/2024 của UBND tỉnh.\n" if k else "")
            + "Yêu cầu các sở, ban, ngành thực hiện nghiêm túc. " * (k % 5 + 1) + "\n")


def test_driver_streams_records_and_writes_what_the_list_writers_write(tmp_path, monkeypatch):
    """At most a couple of full records are alive at once while the driver writes duties,
    the tracking database, the corrections, links.json, the task list and review.html; the
    files are those the all-in-memory writers give for the same documents."""
    import copy
    import weakref

    from pipeline import batch, corrections, emitters
    from pipeline.outputs import write_duties
    from pipeline.tracking import open_db, upsert_documents

    folder = tmp_path / "in"
    folder.mkdir()
    for k in range(30):
        (folder / f"cv{k:02d}.txt").write_text(_letter(k), encoding="utf-8")
    raw = json.loads(write_config(tmp_path).read_text(encoding="utf-8"))
    raw["outputs"] = {"documents": True}              # every output on
    raw["stages"].append({"name": "test_fake_header"})
    cfg_path = tmp_path / "all.yaml"
    cfg_path.write_text(json.dumps(raw, ensure_ascii=False), encoding="utf-8")
    cfg = load_config(cfg_path)
    out = tmp_path / "out"
    first = batch.run_paths([str(folder)], out, cfg, workers=1, progress=False)
    assert first["counts"].get("failed", 0) == 0 and first["duties"] > 0

    # a clerk's correction of one duty, applied while the next run streams
    docs = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (out / "documents").glob("*.json")}
    target = sorted(docs.values(), key=lambda d: d["source"])[3]
    task = target["tasks"][0]
    ag = task["agencies"][0]
    from pipeline.ids import duty_id
    row_id = duty_id(target["doc_id"], task["id"], ag["name"], ag["role"])
    corrections.store(out, [{"row_id": row_id, "kind": "update", "doc_id": target["doc_id"],
                             "task_id": task["id"], "fields": {"deadline": "2024-12-31", "role": "coordinate"},
                             "extracted": {"agency": ag["name"], "role": ag["role"], "deadline": None},
                             "note": "đã sửa"}])

    class Record(dict):      # a dict that a weak reference can follow
        pass

    refs: list = []          # a weak reference to every record loaded
    peaks, loads = [], []

    def n_alive() -> int:
        return sum(r() is not None for r in refs)
    real_load = batch.load_record

    def counting_load(manifest, key, item):
        record = Record(real_load(manifest, key, item))
        refs.append(weakref.ref(record))
        loads.append(record["doc_id"])
        peaks.append(n_alive())
        return record

    monkeypatch.setattr(batch, "load_record", counting_load)
    report = batch.run_paths([str(folder)], out, cfg, workers=1, progress=False)
    assert report["skipped"] == 30 and report["duties"] > 0
    assert len(loads) >= 30                      # every record read back, one at a time
    assert max(peaks) <= 2, peaks
    assert n_alive() == 0                        # nothing keeps a record after the run
    assert json.loads((out / corrections.REPORT_NAME).read_text(encoding="utf-8"))["applied"] == 1

    # the same documents through the all-in-memory writers
    ref = tmp_path / "ref"
    ref.mkdir()
    shutil.copy(out / "directives.sqlite", ref / "directives.sqlite")
    conn = sqlite3.connect(ref / "directives.sqlite")
    with conn:
        for table in ("documents", "tasks", "duties"):
            conn.execute(f"DELETE FROM {table}")
    conn.close()
    documents = sorted(docs.values(), key=lambda d: d["source"])
    corrected = emitters.before_write(ref, copy.deepcopy(documents), cfg)
    n = write_duties(ref, corrected)
    conn = open_db(ref / "directives.sqlite")
    upsert_documents(conn, corrected, {d["doc_id"]: "ok" for d in corrected})
    conn.close()
    emitters.after_write(ref, corrected, report, cfg)
    assert n == report["duties"]
    for name in ("duties.csv", "duties.jsonl", "links.json", "nhiem_vu.csv", "nhiem_vu.index.json",
                 "review.html", corrections.REPORT_NAME):
        assert (out / name).read_bytes() == (ref / name).read_bytes(), name
    assert b"2024-12-31" in (out / "duties.csv").read_bytes()
    assert json.loads((out / "links.json").read_text(encoding="utf-8"))["counts"]["citations"] > 0
    assert snapshot(out)["sqlite:duties"] == snapshot(ref)["sqlite:duties"]


def test_streamed_duties_csv_is_byte_identical_to_pandas(tmp_path):
    """duties.csv written row by row formats every column as pandas' DataFrame.to_csv did
    (an int column with a gap is a float column, bools, NaN, quoting, line breaks)."""
    import pandas as pd

    from pipeline.outputs import DUTY_COLUMNS, duty_rows, write_duties
    rnd = random.Random(5)
    values = [None, 1, 2, 0.5, 0.9, 1.0, "x", 'a,"b"\nc', "", True, False, float("nan"), 0.1 + 0.2]
    for trial in range(150):
        docs = []
        for d in range(rnd.randint(0, 4)):
            tasks = []
            for t in range(rnd.randint(0, 3)):
                ags = [{"name": rnd.choice(["A", "B, C", 'Sở "x"']), "role": "lead",
                        **({"confidence": rnd.choice(values)} if rnd.random() < .5 else {}),
                        **({"deadline": rnd.choice(values)} if rnd.random() < .3 else {}),
                        "needs_review": rnd.choice([True, False, None])} for _ in range(rnd.randint(0, 3))]
                tasks.append({"id": str(t), "text": rnd.choice(["t", "", "x\r\ny"]), "agencies": ags,
                              "page": rnd.choice([None, 1, 2] if trial % 3 else [1, 2]),
                              "deadline": rnd.choice([None, "2020-01-01"])})
            docs.append({"doc_id": f"{d:016d}", "source": rnd.choice(["b.txt", "a.txt", "c"]), "tasks": tasks,
                         "issue_date": rnd.choice([None, "2020"]), "doc_type": rnd.choice([None, "CV", 3])})
        out = tmp_path / f"t{trial}"
        assert write_duties(out, docs) == sum(len(duty_rows(d)) for d in docs)
        rows = [r for doc in sorted(docs, key=lambda d: d["source"]) for r in duty_rows(doc)]
        assert (out / "duties.csv").read_bytes() == \
            pd.DataFrame(rows, columns=DUTY_COLUMNS).to_csv(index=False).encode("utf-8"), trial
        assert (out / "duties.jsonl").read_bytes() == \
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows).encode("utf-8")
        assert not [p for p in out.iterdir() if p.name.startswith(".")]    # no temporary file left


# ------------------------------------------------------------------ stray files in archive folders

def test_walk_lists_non_documents_as_skipped_and_exits_0(tmp_path):
    """A folder walk does not read manifest.tsv, .DS_Store, Thumbs.db or a hidden folder: they
    are listed in run.json as skipped, the run has no failure and `directives run` exits 0."""
    folder = inbox(tmp_path, 2, extra=(SHARED / "docs" / "manifest.tsv", "manifest.tsv"))
    (folder / ".DS_Store").write_bytes(b"\0\0\0\1Bud1" + b"\0" * 100)
    (folder / "sub").mkdir()
    (folder / "sub" / "Thumbs.db").write_bytes(b"\xd0\xcf\x11\xe0" + b"\0" * 100)
    (folder / "sub" / "d2.txt.sha256").write_text("0" * 64 + "  d2.txt\n", encoding="utf-8")
    (folder / ".git").mkdir()
    (folder / ".git" / "HEAD").write_text("ref: refs/heads/main\n", encoding="utf-8")
    out = tmp_path / "out"
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    proc = subprocess.run([sys.executable, "-m", "pipeline.cli", "run", str(folder), "--out", str(out),
                           "--config", str(write_config(tmp_path)), "--workers", "1"],
                          cwd=REPO, env=env, capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    report = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert report["files"] == 2 and report["counts"].get("failed", 0) == 0, report["counts"]
    assert {f["source"] for f in report["files_detail"]} == {"d0.txt", "d1.txt"}
    skipped = {f["source"]: f["reason"] for f in report["skipped_files_detail"]}
    assert skipped == {".DS_Store": "not_a_document", "manifest.tsv": "not_a_document",
                       "sub/Thumbs.db": "not_a_document", "sub/d2.txt.sha256": "not_a_document",
                       ".git/": "hidden_folder"}
    assert report["skipped_files"] == 5
    assert "not documents" in proc.stdout


def test_named_non_document_still_fails(tmp_path):
    """A .tsv named on the command line is read, and fails: the operator asked for it."""
    from pipeline.batch import run_paths
    folder = inbox(tmp_path, 1, extra=(SHARED / "docs" / "manifest.tsv", "manifest.tsv"))
    cfg = load_config(write_config(tmp_path))
    report = run_paths([str(folder / "manifest.tsv"), str(folder / "d0.txt")], tmp_path / "out", cfg,
                       workers=1, progress=False)
    got = {f["source"]: f for f in report["files_detail"]}
    assert got["manifest.tsv"]["status"] == "failed" and got["manifest.tsv"]["reason"] == "unsupported_type"
    assert report["skipped_files"] == 0 and report["skipped_files_detail"] == []


def test_unreadable_document_in_a_walk_still_fails(tmp_path):
    """A .doc (a letter we cannot read) is not a stray file: it fails, even in a walk."""
    from pipeline.batch import run_paths
    folder = inbox(tmp_path, 1)
    (folder / "letter.doc").write_bytes(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\0" * 500)
    (folder / "notes.odt").write_bytes(b"PK\x03\x04" + b"\0" * 100)
    (folder / "index.csv").write_text("file,number\nd0.txt,1\n", encoding="utf-8")
    cfg = load_config(write_config(tmp_path))
    report = run_paths([str(folder)], tmp_path / "out", cfg, workers=1, progress=False)
    got = {f["source"]: f for f in report["files_detail"]}
    for name in ("letter.doc", "notes.odt"):
        assert got[name]["status"] == "failed" and got[name]["reason"] == "unsupported_type", got[name]
    assert report["counts"]["failed"] == 2
    assert [f["source"] for f in report["skipped_files_detail"]] == ["index.csv"]
