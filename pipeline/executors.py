"""Where the per-document task function runs: in-process, a local process pool, or Dask.

Every executor runs the same function, :func:`run_document` (a thin wrapper over
``pipeline.runner.process_file``: path + root + resolved config -> FileResult), and
yields ``(index, FileResult)`` pairs in completion order.  The driver (pipeline/batch.py)
writes the outputs and the manifest; executors never touch the output folder.

- ``InlineExecutor``: workers=1, in the driver's own process (no crash isolation).
- ``LocalPoolExecutor``: ``concurrent.futures.ProcessPoolExecutor`` (forkserver) whose
  workers are recycled after ``executor.recycle_after`` documents (default 50).  A worker
  killed by a segfault or the OOM killer breaks the pool (BrokenProcessPool): the pool is
  restarted, the documents that were in flight are run again one at a time in a fresh
  one-worker pool, and the one that kills its worker again ends ``failed/worker_crashed``.
  A document still running after ``executor.document_timeout_s`` (default 1800 s; null: no
  limit) ends ``failed/document_timeout``: the pool is killed and restarted and the other
  documents in flight are run again.
- ``DaskExecutor``: ``distributed.Client`` on ``--scheduler tcp://host:8786`` (workers must
  see the same paths: a shared file system), or a ``LocalCluster`` when ``executor.kind`` is
  ``dask`` with no scheduler.  A task whose worker dies more often than the scheduler's
  ``allowed-failures`` ends with KilledWorker -> ``failed/worker_crashed``.  A document
  running longer than ``document_timeout_s`` ends ``failed/document_timeout`` and its worker
  is restarted (its nanny starts a fresh process; the documents queued there run elsewhere).

Workers start warm (pipeline/warm.py): the pool's forkserver, and each Dask worker when the
executor starts, loads the restorer's model and the matchers once before any document.

Tesseract runs single-threaded in every worker (OMP_THREAD_LIMIT=1, or
``executor.omp_thread_limit``): parallelism comes from documents, not from OpenMP threads.
"""
from __future__ import annotations

import importlib
import json
import multiprocessing
import os
import sys
import time
from collections import deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from concurrent.futures import TimeoutError as FuturesTimeout
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path
from typing import Iterator, Optional

from pipeline.config import Config
from pipeline.runner import FileResult, process_file

Task = tuple[str, str]          # (path, root)
DEFAULT_RECYCLE_AFTER = 50
WARM_ENV = "DIRECTIVES_WARM_CONFIG"     # read by pipeline/warm.py in the forkserver
DEFAULT_DOCUMENT_TIMEOUT_S = 1800    # a document that takes longer holds a worker: stop it


# ------------------------------------------------------------------ the task function

def _set_worker_env(omp_thread_limit: int = 1) -> None:
    os.environ["OMP_THREAD_LIMIT"] = str(omp_thread_limit)


def _import_plugins(config: Config) -> None:
    """Modules named in ``plugins:`` of pipeline.yaml register extra stages when imported."""
    for name in config.raw.get("plugins") or []:
        importlib.import_module(name)


def run_document(path: str, root: str, config: Config) -> FileResult:
    """The task every executor runs for one file: pure, idempotent, never raises for a bad file."""
    _set_worker_env(int(config.executor.get("omp_thread_limit") or 1))
    _import_plugins(config)
    return process_file(path, root, config)


# on a Dask worker: the documents running now, key -> (start time, worker address); the
# driver reads it (client.run) to find a document over its time limit
_RUNNING: dict[str, tuple[float, str]] = {}


def run_document_on_dask(path: str, root: str, config: Config) -> FileResult:
    """run_document, noting when it started (a queued Dask task has not started yet)."""
    from distributed import get_worker
    worker = get_worker()
    key = worker.get_current_task()
    _RUNNING[key] = (time.monotonic(), worker.address)
    try:
        return run_document(path, root, config)
    finally:
        _RUNNING.pop(key, None)


def _running_on_dask_worker() -> dict[str, tuple[float, str]]:
    """Seconds each running document has taken, with its worker's address."""
    now = time.monotonic()
    return {key: (now - started, address) for key, (started, address) in list(_RUNNING.items())}


def document_timeout(config: Config) -> Optional[float]:
    timeout = config.executor.get("document_timeout_s", DEFAULT_DOCUMENT_TIMEOUT_S)
    return float(timeout) if timeout else None


def source_of(path: str | Path, root: str | Path) -> str:
    """The record's ``source`` for a file, as process_file computes it."""
    path, root = Path(path), Path(root)
    try:
        return str(path.relative_to(root)) if root.is_dir() else path.name
    except ValueError:
        return path.name


def crashed(task: Task, message: str) -> FileResult:
    return FileResult(source=source_of(*task), status="failed", reason="worker_crashed",
                      message=message)


def timed_out(task: Task, seconds: float) -> FileResult:
    return FileResult(source=source_of(*task), status="failed", reason="document_timeout",
                      message=f"reading this file took longer than {seconds:g} s "
                              "(executor.document_timeout_s); its worker was stopped")


# ------------------------------------------------------------------ executors

class Executor:
    kind = "base"

    def __init__(self, config: Config, workers: int):
        self.config = config
        self.workers = workers
        self.crashes = 0
        self.timeouts = 0

    def describe(self) -> dict:
        return {"kind": self.kind, "workers": self.workers}

    def run(self, tasks: list[Task]) -> Iterator[tuple[int, FileResult]]:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class InlineExecutor(Executor):
    """One document after another in the driver's process (workers=1)."""
    kind = "inline"

    def __init__(self, config: Config, workers: int = 1):
        super().__init__(config, 1)
        _set_worker_env(int(config.executor.get("omp_thread_limit") or 1))

    def run(self, tasks: list[Task]) -> Iterator[tuple[int, FileResult]]:
        for i, (path, root) in enumerate(tasks):
            yield i, run_document(path, root, self.config)


class _RecyclingPool(ProcessPoolExecutor):
    """ProcessPoolExecutor whose workers exit after max_tasks_per_child and are always replaced.

    CPython 3.11–3.14 can deadlock once a worker exits at its task limit (gh-115634: a
    stale idle-worker token stops the replacement); this keeps the pool at max_workers.
    """

    def _adjust_process_count(self):
        if getattr(self, "_shutdown_thread", False):
            return
        while len(self._processes) < self._max_workers:
            self._spawn_process()


def _pool_initializer(omp_thread_limit: int) -> None:
    _set_worker_env(omp_thread_limit)


class LocalPoolExecutor(Executor):
    kind = "local"

    def __init__(self, config: Config, workers: int, recycle_after: Optional[int] = None):
        super().__init__(config, workers)
        self.recycle_after = recycle_after or int(config.executor.get("recycle_after")
                                                  or DEFAULT_RECYCLE_AFTER)
        self.omp = int(config.executor.get("omp_thread_limit") or 1)
        self.timeout = document_timeout(config)
        method = config.executor.get("start_method") or "forkserver"
        self._ctx = multiprocessing.get_context(method)
        if method == "forkserver":
            # the forkserver loads the models once for all workers (pipeline/warm.py); it is
            # started, with this environment, when the first pool of this process starts
            os.environ.setdefault(WARM_ENV, json.dumps(config.raw, ensure_ascii=False, default=str))
            self._ctx.set_forkserver_preload(["pipeline.runner", "pipeline.stages", "pipeline.warm"])
        self._pool: Optional[ProcessPoolExecutor] = None

    def describe(self) -> dict:
        return {"kind": self.kind, "workers": self.workers, "recycle_after": self.recycle_after,
                "document_timeout_s": self.timeout}

    def _new_pool(self, workers: int) -> ProcessPoolExecutor:
        kwargs = dict(max_workers=workers, mp_context=self._ctx,
                      initializer=_pool_initializer, initargs=(self.omp,))
        if sys.version_info >= (3, 11):       # max_tasks_per_child is new in 3.11
            return _RecyclingPool(max_tasks_per_child=self.recycle_after, **kwargs)
        return ProcessPoolExecutor(**kwargs)

    def run(self, tasks: list[Task]) -> Iterator[tuple[int, FileResult]]:
        pending = deque(range(len(tasks)))
        # no more documents in flight than workers: a submitted document is a running one,
        # so that its time limit counts from when it started
        window = self.workers
        suspects: list[int] = []
        self._pool = self._new_pool(self.workers)
        in_flight: dict = {}
        started_at: dict = {}
        restarts_without_progress = 0
        try:
            while pending or in_flight:
                while pending and len(in_flight) < window:
                    i = pending.popleft()
                    try:
                        fut = self._pool.submit(run_document, *tasks[i], self.config)
                    except BrokenProcessPool:
                        pending.appendleft(i)
                        break
                    in_flight[fut] = i
                    started_at[fut] = time.monotonic()
                if not in_flight:       # the pool broke before anything was submitted
                    restarts_without_progress += 1
                    if restarts_without_progress > 3:
                        raise RuntimeError("the process pool keeps breaking before it runs anything")
                    self._restart()
                    continue
                restarts_without_progress = 0
                done, _ = wait(list(in_flight), timeout=self._wait_time(started_at),
                               return_when=FIRST_COMPLETED)
                if not done:
                    # a document over its time limit: kill the pool, report it, redo the others
                    now = time.monotonic()
                    late = [f for f in in_flight if now - started_at[f] > self.timeout]
                    for fut in late:
                        i = in_flight.pop(fut)
                        yield i, timed_out(tasks[i], self.timeout)
                    innocent = sorted(in_flight.values())
                    in_flight.clear()
                    started_at.clear()
                    self.timeouts += len(late)
                    self._kill_pool()
                    self._pool = self._new_pool(self.workers)
                    pending.extendleft(reversed(innocent))
                    continue
                broken = False
                for fut in done:
                    i = in_flight.pop(fut)
                    started_at.pop(fut, None)
                    try:
                        yield i, fut.result()
                    except BrokenProcessPool:
                        broken = True
                        suspects.append(i)
                    except Exception as exc:  # unpicklable result, etc.
                        yield i, FileResult(source=source_of(*tasks[i]), status="failed",
                                            reason="internal_error",
                                            message=f"{type(exc).__name__}: {exc}")
                if broken:
                    # every future still in flight is broken too: collect them as suspects
                    for fut, i in list(in_flight.items()):
                        try:
                            result = fut.result()
                        except BaseException:
                            suspects.append(i)
                        else:
                            yield i, result
                    in_flight.clear()
                    started_at.clear()
                    self.crashes += 1
                    self._restart()
                    # run the suspects alone so that only the culprit is marked crashed
                    for i in sorted(suspects):
                        yield i, self._run_alone(tasks[i])
                    suspects.clear()
        finally:
            self.close()

    def _wait_time(self, started_at: dict) -> Optional[float]:
        if not self.timeout or not started_at:
            return None
        first_deadline = min(started_at.values()) + self.timeout
        return max(0.05, first_deadline - time.monotonic() + 0.01)

    def _kill_pool(self, pool: Optional[ProcessPoolExecutor] = None) -> None:
        """Stop a pool whose worker is stuck: kill its processes, then shut it down."""
        pool = pool or self._pool
        if pool is None:
            return
        for proc in list(getattr(pool, "_processes", {}).values()):
            try:
                proc.kill()
            except Exception:
                pass
        pool.shutdown(wait=True, cancel_futures=True)
        if pool is self._pool:
            self._pool = None

    def _restart(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
        self._pool = self._new_pool(self.workers)

    def _run_alone(self, task: Task) -> FileResult:
        pool = self._new_pool(1)
        try:
            return pool.submit(run_document, *task, self.config).result(timeout=self.timeout or None)
        except BrokenProcessPool:
            return crashed(task, "the worker process died while reading this file "
                                 "(segmentation fault or out of memory)")
        except FuturesTimeout:
            self.timeouts += 1
            self._kill_pool(pool)
            return timed_out(task, self.timeout)
        finally:
            pool.shutdown(wait=True, cancel_futures=True)

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True, cancel_futures=True)
            self._pool = None


class DaskExecutor(Executor):
    kind = "dask"

    def __init__(self, config: Config, workers: int, scheduler: Optional[str] = None):
        super().__init__(config, workers)
        from distributed import Client, LocalCluster
        self.scheduler = scheduler
        self.cluster = None
        self.timeout = document_timeout(config)
        omp = int(config.executor.get("omp_thread_limit") or 1)
        if scheduler:
            self.client = Client(scheduler)
        else:
            processes = bool(config.executor.get("processes", True))
            kwargs = dict(n_workers=workers, threads_per_worker=1, processes=processes,
                          dashboard_address=None, silence_logs=40)
            if processes:
                kwargs["env"] = {"OMP_THREAD_LIMIT": str(omp)}
            # Dask's statistical profiler samples every worker thread's stack each 10 ms; on
            # this pure-Python work it costs ~25 % of the CPU (benchmarks/bench_batch.py), so
            # the workers started here run without it (a cluster's own workers: see docs/batch.md)
            import dask
            with dask.config.set({"distributed.worker.profile.enabled":
                                  bool(config.executor.get("dask_profile", False))}):
                self.cluster = LocalCluster(**kwargs)
            self.client = Client(self.cluster)
        self.client.run(_set_worker_env, omp)
        # every worker loads the models now, all at once, rather than on its first document
        from pipeline.warm import warm_up
        self.client.run(warm_up, config.raw)
        self.workers = len(self.client.scheduler_info().get("workers", {})) or workers

    def describe(self) -> dict:
        return {"kind": self.kind, "workers": self.workers,
                "scheduler": self.scheduler or "LocalCluster", "document_timeout_s": self.timeout}

    def run(self, tasks: list[Task]) -> Iterator[tuple[int, FileResult]]:
        from distributed import wait
        from distributed.scheduler import KilledWorker
        if not tasks:
            return
        # the config travels with each task (it is small): a scattered copy dies with its worker
        window = max(4, 4 * self.workers)
        pending = deque(range(len(tasks)))
        in_flight: dict = {}           # future -> task index
        retried: set[int] = set()
        # how often to look for a document over its time limit
        poll = min(10.0, max(0.5, self.timeout / 4)) if self.timeout else None

        def submit(i: int) -> None:
            attempt = 2 if i in retried else 1
            fut = self.client.submit(run_document_on_dask, tasks[i][0], tasks[i][1], self.config,
                                     pure=False,
                                     key=f"directives-doc-{i}-{attempt}-{os.getpid()}-{id(self)}")
            in_flight[fut] = i

        while pending or in_flight:
            while pending and len(in_flight) < window:
                submit(pending.popleft())
            try:
                done = wait(list(in_flight), timeout=poll, return_when="FIRST_COMPLETED").done
            except TimeoutError:
                done = set()
            if not done:
                yield from self._stop_late(tasks, in_flight)
                continue
            for fut in done:
                i = in_flight.pop(fut)
                try:
                    result = fut.result()
                except KilledWorker as exc:
                    if i not in retried:
                        # files queued on the dead worker are suspects too: each gets one more
                        # try, and only the one that kills a worker again is reported
                        retried.add(i)
                        fut.release()
                        submit(i)
                        continue
                    self.crashes += 1
                    result = crashed(tasks[i], f"the Dask worker died while reading this file: {exc}")
                except Exception as exc:
                    result = FileResult(source=source_of(*tasks[i]), status="failed",
                                        reason="internal_error", message=f"{type(exc).__name__}: {exc}")
                fut.release()
                yield i, result

    def _stop_late(self, tasks: list[Task], in_flight: dict) -> Iterator[tuple[int, FileResult]]:
        """Report the documents over their time limit and restart their workers: a Python
        thread cannot be stopped, its process can (the nanny starts a new one)."""
        by_key = {fut.key: fut for fut in in_flight}
        late_workers = set()
        for running in self.client.run(_running_on_dask_worker).values():
            for key, (seconds, address) in running.items():
                fut = by_key.get(key)
                if fut is None or seconds <= self.timeout:
                    continue
                i = in_flight.pop(fut)
                fut.cancel()
                self.timeouts += 1
                late_workers.add(address)
                yield i, timed_out(tasks[i], self.timeout)
        if late_workers:
            try:
                self.client.restart_workers(sorted(late_workers))
            except Exception:   # workers without a nanny (threads): the thread runs on, unused
                pass

    def close(self) -> None:
        try:
            self.client.close()
        finally:
            if self.cluster is not None:
                self.cluster.close()


def default_workers() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:
        return os.cpu_count() or 1


def make_executor(config: Config, workers: Optional[int] = None,
                  scheduler: Optional[str] = None, n_tasks: Optional[int] = None) -> Executor:
    """--scheduler (or executor.scheduler) -> Dask; executor.kind dask -> LocalCluster;
    else a local pool of --workers (executor.workers, default: cores; never more processes
    than files); --workers 1 runs inline unless ``executor.isolate: true``."""
    ex = config.executor or {}
    scheduler = scheduler or ex.get("scheduler")
    workers = workers or ex.get("workers") or default_workers()
    workers = max(1, int(workers))
    if scheduler or ex.get("kind") == "dask":
        return DaskExecutor(config, workers, scheduler)
    if workers == 1 and not ex.get("isolate"):
        return InlineExecutor(config)
    return LocalPoolExecutor(config, max(1, min(workers, n_tasks or workers)))
