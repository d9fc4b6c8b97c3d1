"""Reads pipeline.yaml: the stages in order, with their settings."""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import yaml

from pipeline.resources import resource


@dataclass
class Config:
    stages: list[tuple[str, dict]]
    executor: dict[str, Any] = field(default_factory=dict)
    outputs: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)

    def settings(self, stage_name: str) -> dict:
        for name, settings in self.stages:
            if name == stage_name:
                return settings
        return {}

    def digest(self) -> str:
        """Hash of the resolved config: part of the key of a finished file in a resumable run."""
        blob = json.dumps(self.raw, sort_keys=True, ensure_ascii=False).encode()
        return hashlib.sha256(blob).hexdigest()[:16]


def load_config(path: Optional[str | Path] = None) -> Config:
    path = Path(path) if path else resource("pipeline.yaml")
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh) or {}
    return config_from_raw(raw)


def config_from_raw(raw: dict) -> Config:
    """The Config of an already parsed pipeline.yaml."""
    stages = []
    for entry in raw.get("stages", []):
        if isinstance(entry, str):
            stages.append((entry, {}))
        else:
            settings = dict(entry.get("settings") or {})
            if entry.get("enabled", True):
                stages.append((entry["name"], settings))
    return Config(stages=stages, executor=raw.get("executor", {}) or {},
                  outputs=raw.get("outputs", {}) or {}, raw=raw)
