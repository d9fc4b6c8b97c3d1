"""Batch-run benchmarks: throughput, scaling and memory of `directives run`, as ratios measured
in the same process on the same machine (absolute numbers depend on the machine; ratios less so).

    python benchmarks/bench_batch.py                 # default, a few minutes
    python benchmarks/bench_batch.py --only text,workers --text-docs 100
    python benchmarks/bench_batch.py --memory-docs 5000 --memory-config full

1. OCR: pages/s of `directives run` (stages ingest, ocr, normalize by default; the whole
   pipeline with --ocr-config full) on a folder of rendered page images vs bare
   `tesseract IMG stdout -l vie` on the same images, with the same process count.
   Needs tests/scanmaker.py and tesseract with `vie`; skipped with a message otherwise.
2. text: documents/s on one core (workers=1) over /work/shared/docs/*.txt.
3. memory: peak RSS of the driver and of the largest worker for 10 vs N (1,000) documents
   (copies of the docs with a line added so that their hashes differ), every output on
   (links.json, task list, review.html: --memory-outputs core turns them off).
4. workers: 1 vs 2 processes on the same documents.
5. dask: a Dask LocalCluster vs the local process pool, same worker count.

Every `directives run` is a separate child process with a fresh output folder (no resume);
peak RSS comes from that child, measured in the child itself, the process that runs
run_paths (VmHWM of /proc/self/status for the driver; ru_maxrss of the same process is
reported too, but Linux carries the forking parent's peak across exec into it,
and the largest worker process sampled with psutil, when installed).
"""
from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))     # run from anywhere, installed or not
DOCS = Path(os.environ.get("DIRECTIVES_DOCS", "/work/shared/docs"))
FAST_STAGES = [{"name": "ingest"}, {"name": "normalize"}]
OCR_STAGES = ["ingest", "ocr", "normalize"]


# ------------------------------------------------------------------ a run in a child process

class _RssSampler:
    """Peak RSS of the worker processes (descendants of this process, the forkserver's
    children included), sampled every 50 ms with psutil; None without psutil."""

    def __init__(self):
        import threading
        try:
            import psutil
        except ImportError:
            self.psutil = None
            return
        self.psutil = psutil
        self.peak_one = 0.0
        self.peak_sum = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _loop(self):
        me = self.psutil.Process()
        while not self._stop.wait(0.05):
            total = 0.0
            try:
                kids = me.children(recursive=True)
            except self.psutil.Error:
                continue
            for kid in kids:
                try:
                    rss = kid.memory_info().rss / 2**20
                except self.psutil.Error:
                    continue
                try:
                    cmd = " ".join(kid.cmdline())
                except self.psutil.Error:
                    continue
                # not workers: Tesseract runs, the forkserver and the resource tracker
                if kid.name().startswith("tesseract") or "resource_tracker" in cmd or (
                        "forkserver" in cmd and kid.ppid() == me.pid):
                    continue
                total += rss
                self.peak_one = max(self.peak_one, rss)
            self.peak_sum = max(self.peak_sum, total)

    def stop(self) -> dict:
        if self.psutil is None:
            return {"worker_rss_mb": None, "workers_rss_sum_mb": None}
        self._stop.set()
        self._thread.join()
        return {"worker_rss_mb": self.peak_one, "workers_rss_sum_mb": self.peak_sum}


def _peak_rss_kb() -> int | None:
    """VmHWM of this process: unlike ru_maxrss, Linux resets it on exec, so the parent's
    memory at fork time does not count."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def _child(args_json: str) -> None:
    """Inside the child: one run_paths, then its figures as JSON on stdout."""
    import resource
    args = json.loads(args_json)
    from pipeline.batch import run_paths
    from pipeline.config import load_config
    config = load_config(args["config"])
    import pipeline.batch, pipeline.emitters, pipeline.executors, pipeline.manifest  # noqa: F401
    import pipeline.clerk, pipeline.links, pipeline.review, pipeline.tracking  # noqa: F401
    before_kb = _peak_rss_kb()       # the driver's imports, before any document
    sampler = _RssSampler()
    started = time.perf_counter()
    report = run_paths(args["paths"], args["out"], config, workers=args.get("workers"),
                       progress=False)
    wall = time.perf_counter() - started
    rss = sampler.stop()
    maxrss_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    self_kb = _peak_rss_kb() or maxrss_kb
    print(json.dumps({"wall": wall, "report": {k: report[k] for k in
                      ("files", "counts", "processed", "pages", "pages_ocr", "docs_per_s",
                       "pages_per_s", "executor", "seconds", "time_per_stage", "duties")},
                      "driver_rss_mb": self_kb / 1024, "driver_ru_maxrss_mb": maxrss_kb / 1024,
                      "driver_rss_before_run_mb": before_kb / 1024 if before_kb else None, **rss}))


REPEAT = 1


def run_child(paths: list[str], config: Path, workers: int, tmp: Path) -> dict:
    """The fastest of REPEAT runs (the machine may be shared: the minimum is the least noisy)."""
    runs = [_run_child_once(paths, config, workers, tmp) for _ in range(max(1, REPEAT))]
    return min(runs, key=lambda r: r["wall"])


def _run_child_once(paths: list[str], config: Path, workers: int, tmp: Path) -> dict:
    out = Path(tempfile.mkdtemp(dir=tmp, prefix="out-"))
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get("PYTHONPATH", ""))
    args = json.dumps({"paths": paths, "out": str(out), "config": str(config), "workers": workers})
    proc = subprocess.run([sys.executable, str(Path(__file__).resolve()), "--_child", args],
                          cwd=REPO, env=env, capture_output=True, text=True)
    if proc.returncode != 0:
        raise RuntimeError(f"child run failed:\n{proc.stderr[-3000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    shutil.rmtree(out, ignore_errors=True)
    return result


def write_config(tmp: Path, name: str, base: Path | None, executor: dict,
                 fast: bool = False, stages: list | None = None, all_outputs: bool = False) -> Path:
    import yaml
    from pipeline.resources import resource
    raw = yaml.safe_load(Path(base or resource("pipeline.yaml")).read_text(encoding="utf-8"))
    if fast:
        raw["stages"] = FAST_STAGES
    elif stages is not None:     # the given stage names, with their settings from the base config
        by_name = {st["name"]: st for st in raw.get("stages", []) if isinstance(st, dict)}
        raw["stages"] = [by_name.get(name, {"name": name}) for name in stages]
    raw["executor"] = executor
    if not all_outputs:      # links.json, the task list and review.html off: the run's own work only
        raw.setdefault("outputs", {}).update({"links": False, "task_list": False, "review_page": False})
    path = tmp / f"{name}.yaml"
    path.write_text(yaml.safe_dump(raw, allow_unicode=True), encoding="utf-8")
    return path


def replicate(n: int, dest: Path) -> Path:
    """n text documents from DOCS (cycled), each with a line added so that hashes differ."""
    dest.mkdir(parents=True, exist_ok=True)
    sources = sorted(DOCS.glob("*.txt"))
    for k in range(n):
        src = sources[k % len(sources)]
        text = src.read_text(encoding="utf-8")
        (dest / f"{k:05d}_{src.name}").write_text(text + f"\nBản sao số {k}.\n", encoding="utf-8")
    return dest


def first_docs(n: int, dest: Path) -> Path:
    dest.mkdir(parents=True, exist_ok=True)
    for src in sorted(DOCS.glob("*.txt"))[:n]:
        shutil.copy(src, dest / src.name)
    return dest


def fmt(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None else f"{x:.{digits}f}"


# ------------------------------------------------------------------ the benchmarks

def bench_ocr(a, tmp: Path, out: dict) -> None:
    if not shutil.which("tesseract"):
        print("ocr: skipped: tesseract is not installed")
        return
    langs = subprocess.run(["tesseract", "--list-langs"], capture_output=True, text=True).stdout.split()
    if "vie" not in langs:
        print("ocr: skipped: tesseract has no 'vie' language data")
        return
    try:
        from tests import scanmaker
    except Exception as exc:  # the scan maker is another module's; it may not be usable
        print(f"ocr: skipped: tests/scanmaker.py is not usable ({type(exc).__name__}: {exc})")
        return
    from PIL import PngImagePlugin
    folder = tmp / "scans"
    folder.mkdir()
    letters = [p for p in scanmaker.STANDARD_LETTERS if p.exists()] or [None]
    for k in range(a.ocr_pages):
        src = letters[k % len(letters)]
        letter = scanmaker.load_letter(src) if src else scanmaker.short_letter()
        rendered = scanmaker.render(letter, seal=k % 2 == 1)
        pages = rendered.pages[:1]
        if k % 2 == 1:
            pages = scanmaker.degrade(pages, seed=k)
        # a text chunk naming the page makes every file distinct: letters repeat after six
        # pages, and a run reads a file it has already seen (same hash) only once
        info = PngImagePlugin.PngInfo()
        info.add_text("page", str(k))
        pages[0].save(folder / f"page{k:03d}.png", "PNG", dpi=(300, 300), pnginfo=info)
    images = sorted(folder.glob("*.png"))
    workers = a.ocr_workers

    def bare(img: Path) -> None:
        subprocess.run(["tesseract", str(img), "stdout", "-l", "vie"], capture_output=True,
                       env=dict(os.environ, OMP_THREAD_LIMIT="1"), check=False)

    started = time.perf_counter()
    with ThreadPoolExecutor(workers) as pool:
        list(pool.map(bare, images))
    bare_s = time.perf_counter() - started
    bare_pps = len(images) / bare_s
    # the same engine the pipeline uses, in this process, reading each page once: what the
    # ocr stage adds beyond one plain read (cleaning, column re-reads, the kept image)
    from PIL import Image as _Image

    from extractors import tesseract
    engine_s = None
    if tesseract.in_process("vie"):
        started = time.perf_counter()
        for img in images:
            with _Image.open(img) as page:
                tesseract.image_to_data(page.convert("L"), "vie", 3, 300, 600)
        engine_s = time.perf_counter() - started
    cfg = write_config(tmp, "ocr", a.config, {"kind": "local"},
                       stages=None if a.ocr_config == "full" else OCR_STAGES)
    run = run_child([str(folder)], cfg, workers, tmp)
    pipe_pps = run["report"]["pages"] / run["wall"] if run["wall"] else None
    stage_s = sum(run["report"]["time_per_stage"].values())
    busy = stage_s / (run["wall"] * workers) if run["wall"] else None
    ocr_vs_bare = run["report"]["time_per_stage"].get("ocr", 0.0) / (bare_s * workers)
    out["ocr"] = {"pages": len(images), "workers": workers, "stages": a.ocr_config,
                  "stage_seconds": run["report"]["time_per_stage"],
                  "workers_busy_in_stages": busy,
                  "ocr_stage_time_vs_bare_tesseract_time": ocr_vs_bare, "bare_tesseract_pages_per_s": bare_pps,
                  "directives_pages_per_s": pipe_pps,
                  "directives_pages_per_s_work_only": run["report"]["pages_per_s"],
                  "pages_ocr": run["report"]["pages_ocr"], "counts": run["report"]["counts"],
                  "ratio": pipe_pps / bare_pps if pipe_pps else None,
                  "engine": tesseract.engine_name(),
                  "ocr_stage_time_vs_one_engine_read": (run["report"]["time_per_stage"].get("ocr", 0.0)
                                                        / engine_s if engine_s else None)}
    print(f"ocr ({a.ocr_config} stages): {len(images)} pages, {workers} processes: bare tesseract {fmt(bare_pps, 3)} pages/s, "
          f"directives run {fmt(pipe_pps, 3)} pages/s (wall, incl. start-up) -> ratio "
          f"{fmt(out['ocr']['ratio'])} ({run['report']['pages_ocr']} pages OCR'd, "
          f"{run['report']['counts']})")
    print(f"     the OCR stage spends {fmt(ocr_vs_bare)} x the time of bare tesseract per page "
          f"(cleaning, zone and line re-reading); workers were busy in stages "
          f"{fmt(100 * busy if busy else None, 0)}% of the run's wall time x processes")
    print(f"     pages read by {out['ocr']['engine']}; the OCR stage spends "
          f"{fmt(out['ocr']['ocr_stage_time_vs_one_engine_read'])} x the time of one plain read "
          f"of each page by that engine in this process")


def bench_text_and_workers(a, tmp: Path, out: dict, only: set[str]) -> None:
    folder = first_docs(a.text_docs, tmp / "text")
    cfg = write_config(tmp, "text", a.config, {"kind": "local"})
    one = run_child([str(folder)], cfg, 1, tmp)
    n = one["report"]["processed"]
    out["text"] = {"docs": n, "docs_per_s_1_core": n / one["wall"],
                   "docs_per_s_work_only": one["report"]["docs_per_s"],
                   "counts": one["report"]["counts"]}
    print(f"text: {n} documents on one core: {fmt(n / one['wall'])} docs/s wall "
          f"({fmt(one['report']['docs_per_s'])} docs/s without start-up), {one['report']['counts']}")
    if "workers" in only or "dask" in only:
        two = run_child([str(folder)], cfg, 2, tmp)
        out["workers"] = {"docs": n, "wall_1": one["wall"], "wall_2": two["wall"],
                          "speedup_2_vs_1": one["wall"] / two["wall"]}
        print(f"workers: 1 process {fmt(one['wall'], 1)} s, 2 processes {fmt(two['wall'], 1)} s "
              f"-> speed-up {fmt(out['workers']['speedup_2_vs_1'])} (cores: {os.cpu_count()}, shared)")
        if "dask" in only:
            dcfg = write_config(tmp, "dask", a.config, {"kind": "dask"})
            dask = run_child([str(folder)], dcfg, 2, tmp)
            out["dask"] = {"docs": n, "wall_local_pool": two["wall"], "wall_dask_local_cluster": dask["wall"],
                           "ratio_dask_vs_pool_throughput": two["wall"] / dask["wall"],
                           "dask_docs_per_s_work_only": dask["report"]["docs_per_s"],
                           "pool_docs_per_s_work_only": two["report"]["docs_per_s"]}
            print(f"dask: LocalCluster(2) {fmt(dask['wall'], 1)} s vs local pool(2) {fmt(two['wall'], 1)} s "
                  f"-> Dask throughput = {fmt(out['dask']['ratio_dask_vs_pool_throughput'])} x pool "
                  f"(work only: {fmt(dask['report']['docs_per_s'])} vs "
                  f"{fmt(two['report']['docs_per_s'])} docs/s)")


def bench_memory(a, tmp: Path, out: dict) -> None:
    fast = a.memory_config != "full"
    all_outputs = a.memory_outputs == "all"
    cfg = write_config(tmp, "memory", a.config, {"kind": "local"}, fast=fast, all_outputs=all_outputs)
    w = a.memory_workers
    small = run_child([str(replicate(10, tmp / "mem10"))], cfg, w, tmp)
    big = run_child([str(replicate(a.memory_docs, tmp / "membig"))], cfg, w, tmp)
    out["memory"] = {"stages": "ingest+normalize" if fast else "full pipeline",
                     "outputs": a.memory_outputs, "workers": w,
                     "docs_small": 10, "docs_big": a.memory_docs,
                     "duties": [small["report"]["duties"], big["report"]["duties"]],
                     "counts": [small["report"]["counts"], big["report"]["counts"]],
                     "driver_rss_mb": [small["driver_rss_mb"], big["driver_rss_mb"]],
                     "driver_ru_maxrss_mb": [small["driver_ru_maxrss_mb"], big["driver_ru_maxrss_mb"]],
                     "driver_rss_before_run_mb": [small["driver_rss_before_run_mb"],
                                                  big["driver_rss_before_run_mb"]],
                     "worker_rss_mb": [small["worker_rss_mb"], big["worker_rss_mb"]],
                     "driver_ratio": big["driver_rss_mb"] / small["driver_rss_mb"],
                     "worker_ratio": (big["worker_rss_mb"] / small["worker_rss_mb"]
                                      if small["worker_rss_mb"] else None)}
    m = out["memory"]
    print(f"memory ({m['stages']}, outputs: {m['outputs']}, {w} worker(s)): driver peak RSS "
          f"{fmt(small['driver_rss_mb'], 1)} MB for 10 docs, {fmt(big['driver_rss_mb'], 1)} MB for "
          f"{a.memory_docs} -> x{fmt(m['driver_ratio'], 3)} (after imports, before the run: "
          f"{fmt(small['driver_rss_before_run_mb'], 1)} / {fmt(big['driver_rss_before_run_mb'], 1)} MB; "
          f"{m['duties'][0]} / {m['duties'][1]} duties; {m['counts'][1]}); "
          f"largest worker {fmt(small['worker_rss_mb'], 0)} -> {fmt(big['worker_rss_mb'], 0)} MB "
          f"-> x{fmt(m['worker_ratio'])}")


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == ["--_child"]:
        _child(argv[1])
        return 0
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--only", default="ocr,text,memory,workers,dask",
                   help="comma-separated: ocr,text,memory,workers,dask")
    p.add_argument("--config", type=Path, default=None, help="pipeline.yaml (default: the bundled one)")
    p.add_argument("--ocr-pages", type=int, default=4)
    p.add_argument("--ocr-workers", type=int, default=2)
    p.add_argument("--ocr-config", choices=["ocr", "full"], default="ocr",
                   help="ocr: ingest+ocr+normalize (default: the OCR path of a batch run); "
                        "full: every stage of pipeline.yaml")
    p.add_argument("--text-docs", type=int, default=60)
    p.add_argument("--memory-docs", type=int, default=1000)
    p.add_argument("--memory-config", choices=["fast", "full"], default="fast",
                   help="fast: ingest+normalize only (default; the driver's memory is what grows "
                        "with the number of documents); full: the whole pipeline")
    p.add_argument("--memory-outputs", choices=["all", "core"], default="all",
                   help="all: every output of a run (links.json, task list, review.html too; default); "
                        "core: documents, duties, tracking database and run.json only")
    p.add_argument("--memory-workers", type=int, default=2,
                   help="worker processes of the memory runs (the driver does not run documents)")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument("--repeat", type=int, default=1,
                   help="run each `directives run` this many times and keep the fastest")
    a = p.parse_args(argv)
    global REPEAT
    REPEAT = a.repeat
    only = set(a.only.split(","))
    figures: dict = {"cpu_count": os.cpu_count(), "python": sys.version.split()[0],
                     "repeat": a.repeat}
    figures["load_average_before"] = os.getloadavg()[0]
    print(f"{os.cpu_count()} cores, load average {figures['load_average_before']:.2f} "
          "(other jobs on the machine make the absolute figures and the speed-ups noisy)")
    started = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="bench-batch-") as tmp_name:
        tmp = Path(tmp_name)
        if "ocr" in only:
            bench_ocr(a, tmp, figures)
        if only & {"text", "workers", "dask"}:
            bench_text_and_workers(a, tmp, figures, only)
        if "memory" in only:
            bench_memory(a, tmp, figures)
    figures["total_seconds"] = time.perf_counter() - started
    figures["load_average_after"] = os.getloadavg()[0]
    print(f"total {fmt(figures['total_seconds'], 0)} s")
    if a.json:
        a.json.write_text(json.dumps(figures, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
