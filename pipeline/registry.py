"""Stages are registered by name, as spaCy registers components; pipeline.yaml lists the names."""
from __future__ import annotations

from typing import Callable

from pipeline.model import Document

Stage = Callable[[Document, dict], Document]
_STAGES: dict[str, Stage] = {}


def stage(name: str) -> Callable[[Stage], Stage]:
    def register(fn: Stage) -> Stage:
        _STAGES[name] = fn
        return fn
    return register


def get_stage(name: str) -> Stage:
    import pipeline.stages  # noqa: F401  (registers the built-in stages)
    try:
        return _STAGES[name]
    except KeyError:
        raise KeyError(f"unknown stage {name!r}; known: {sorted(_STAGES)}") from None
