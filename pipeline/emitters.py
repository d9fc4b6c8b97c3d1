"""Hooks around a run's outputs, so that extra outputs plug in without touching the batch code.

``before_write`` may change the documents (e.g. apply a clerk's stored corrections);
``after_write`` writes further files (clerk's task list, review page, links).
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

from pipeline.config import Config


def before_write(out_dir: Path, documents: list[dict[str, Any]], config: Config) -> list[dict[str, Any]]:
    return documents


def after_write(out_dir: Path, documents: list[dict[str, Any]], report: dict, config: Config) -> None:
    return None
