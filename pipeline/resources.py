"""Where pipeline.yaml and data/ are: beside the package in a checkout, inside it in a wheel."""
from __future__ import annotations

import functools
from pathlib import Path

import yaml

_PKG = Path(__file__).resolve().parent


def resource(name: str) -> Path:
    for base in (_PKG / "_bundled", _PKG.parent):
        p = base / name
        if p.exists():
            return p
    raise FileNotFoundError(f"resource {name} not found beside {_PKG}")


def data_path(name: str) -> Path:
    return resource("data") / name


@functools.lru_cache(maxsize=None)
def load_data_yaml(name: str):
    with open(data_path(name), encoding="utf-8") as fh:
        return yaml.safe_load(fh)
