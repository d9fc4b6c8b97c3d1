"""Hooks around a run's outputs, so that extra outputs plug in without touching the batch code.

``before_write`` applies a clerk's stored corrections (table ``corrections`` of
OUT/directives.sqlite) to the documents, so that duties.csv/jsonl, the task list and the
tracking database show them, and writes OUT/corrections_report.json (what was applied,
and conflicts: rows the pipeline now reads differently from when the clerk corrected them).
Every duty gets its stable ``duty_id`` (pipeline/ids.py) on its agency entry.

``after_write`` writes the further outputs: OUT/links.json (pipeline/links.py), the
clerk's task list OUT/nhiem_vu.csv + .xlsx (pipeline/clerk.py) and the review page
OUT/review.html (pipeline/review.py). Each can be turned off in pipeline.yaml
(``outputs: {links: false, task_list: false, review_page: false}``). A failure of one
of them is logged and recorded in OUT/emitter_errors.json instead of failing a finished
run, unless ``outputs: {strict: true}``.

The documents/<doc_id>.json files keep the pipeline's own reading, without corrections:
``directives apply-corrections`` re-applies the stored corrections to them.
"""
from __future__ import annotations

import logging
import traceback
from pathlib import Path
from typing import Any, Callable, Optional

from pipeline.config import Config

log = logging.getLogger(__name__)


def _outputs(config: Config) -> dict:
    return getattr(config, "outputs", None) or {}


def before_write(out_dir: Path, documents: list[dict[str, Any]], config: Config) -> list[dict[str, Any]]:
    from pipeline import corrections
    out = Path(out_dir)
    stored = corrections.load(out, _outputs(config))
    corrected, report = corrections.apply_stored(documents, stored)
    if stored or (out / corrections.REPORT_NAME).exists():
        corrections.write_report(out, report)
    return corrected


def after_write(out_dir: Path, documents: list[dict[str, Any]], report: dict, config: Config) -> None:
    docs = list(documents)
    by_id = {d["doc_id"]: d for d in docs}
    review = None
    if _outputs(config).get("review_page", True):
        from pipeline.review import review_summary
        review = [review_summary(d) for d in docs]

    def links():
        from pipeline.links import write_links
        return write_links(out_dir, docs)

    def task_list(links):
        from pipeline.clerk import write_task_list
        return write_task_list(out_dir, docs, links)
    _after_write(Path(out_dir), links, task_list, review, by_id.__getitem__, report, config)


class Streamed:
    """``before_write`` and ``after_write`` for a run that streams its records, one
    document at a time, in source order:

    - ``correct(doc)`` applies the stored corrections to one document (and counts it in
      corrections_report.json), ``keep(doc)`` keeps what the further outputs need of it —
      a slim summary per output turned on, never the text: links.json's
      (:func:`pipeline.links.link_summary`) and the task list's
      (:func:`pipeline.clerk.clerk_summary`) go to temporary SQLite databases on disk
      (:class:`pipeline.links.LinkSpool`, :class:`pipeline.clerk.TaskList`), the review page's
      (:func:`pipeline.review.review_summary`, ~100 bytes) stay in memory;
    - ``finish_corrections()`` writes corrections_report.json (as ``before_write`` does);
    - ``after_write(report, load)`` writes links.json, the task list and review.html from the
      summaries; the review page loads the records it shows with ``load(doc_id)`` (the
      corrected record: see ``recorrect``), one at a time; ``close()`` drops the spooled
      summaries and links (after_write calls it).

    The files are those that ``before_write`` + ``after_write`` write for the same documents."""

    def __init__(self, out_dir: Path, config: Config):
        from pipeline import corrections
        self.out = Path(out_dir)
        self.config = config
        self.opts = _outputs(config)
        self._stored = corrections.load(self.out, self.opts)
        self.applier = corrections.Applier(self._stored)
        self.links = None
        if self.opts.get("links", True):
            from pipeline.links import LinkSpool
            self.links = LinkSpool()
        self.tasks = None
        if self.opts.get("task_list", True):
            from pipeline.clerk import TaskList
            self.tasks = TaskList()
        self.review: Optional[list] = [] if self.opts.get("review_page", True) else None

    def correct(self, doc: dict[str, Any]) -> dict[str, Any]:
        return self.applier.apply(doc)

    def recorrect(self, doc: dict[str, Any]) -> dict[str, Any]:
        """The corrections applied again to a record loaded a second time (not counted again)."""
        return self.applier.apply(doc, report=False)

    def keep(self, doc: dict[str, Any]) -> None:
        if self.links is not None:
            self.links.add(doc)
        if self.tasks is not None:
            self.tasks.add(doc)
        if self.review is not None:
            from pipeline.review import review_summary
            self.review.append(review_summary(doc))

    def finish_corrections(self) -> None:
        from pipeline import corrections
        report = self.applier.finish()
        if self._stored or (self.out / corrections.REPORT_NAME).exists():
            corrections.write_report(self.out, report)

    def after_write(self, report: dict, load: Callable[[str], dict[str, Any]]) -> None:
        try:
            spool, tasks = self.links, self.tasks
            _after_write(self.out, lambda: spool.write(self.out), lambda links: tasks.write(self.out, links),
                         self.review, load, report, self.config)
        finally:
            self.close()

    def close(self) -> None:
        for spool in (self.links, self.tasks):
            if spool is not None:
                spool.close()
        self.links = self.tasks = None


def _after_write(out: Path, write_links: Callable[[], Any], task_list: Callable[[Any], int],
                 review_docs: Optional[list[dict]], load: Callable[[str], dict[str, Any]], report: dict,
                 config: Config) -> None:
    opts = _outputs(config)
    errors = []
    links = None

    def step(name: str, fn):
        try:
            return fn()
        except Exception as exc:  # noqa: BLE001 - one output must not undo a finished run
            if opts.get("strict"):
                raise
            log.exception("output %s failed", name)
            errors.append({"output": name, "error": f"{type(exc).__name__}: {exc}",
                           "traceback": traceback.format_exc(limit=5)})

    if opts.get("links", True):
        links = step("links.json", write_links)
    if opts.get("task_list", True):
        step("nhiem_vu", lambda: task_list(links))
    if opts.get("review_page", True):
        from pipeline.review import write_review_page_streamed
        keep = (config.settings("ocr") or {}).get("keep_images") if hasattr(config, "settings") else None
        step("review.html", lambda: write_review_page_streamed(
            out, review_docs or [], load, links=links, report=report,
            max_documents=opts.get("review_max_documents", 300), image_dirs=[keep] if keep else []))
    from pipeline.outputs import atomic_write_text, to_json
    err_path = out / "emitter_errors.json"
    if errors:
        atomic_write_text(err_path, to_json(errors))
    elif err_path.exists():
        err_path.unlink()
