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
from typing import Any

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
    out = Path(out_dir)
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
        from pipeline.links import write_links
        links = step("links.json", lambda: write_links(out, documents))
    if opts.get("task_list", True):
        from pipeline.clerk import write_task_list
        step("nhiem_vu", lambda: write_task_list(out, documents, links))
    if opts.get("review_page", True):
        from pipeline.review import write_review_page
        keep = (config.settings("ocr") or {}).get("keep_images") if hasattr(config, "settings") else None
        step("review.html", lambda: write_review_page(out, documents, links=links, report=report,
                                                     max_documents=opts.get("review_max_documents", 300),
                                                     image_dirs=[keep] if keep else []))
    from pipeline.outputs import atomic_write_text, to_json
    err_path = out / "emitter_errors.json"
    if errors:
        atomic_write_text(err_path, to_json(errors))
    elif err_path.exists():
        err_path.unlink()
