"""Warm a process up before it reads documents: run a short letter through the text stages.

The local pool's forkserver imports this module before it forks any worker (see
pipeline.executors): the restorer's language model (~350 MB, ~2 s), the agency matcher and
the extractors' grammars are loaded there once, and every worker — also each one that
replaces a recycled worker — starts with them in memory, shared copy-on-write, instead of
loading them itself.  The config comes in the environment (DIRECTIVES_WARM_CONFIG, JSON of
the resolved pipeline.yaml), because a forkserver's preload modules take no arguments.
Warming only fills caches: a document's records are the same with or without it.
"""
from __future__ import annotations

import json
import os

from pipeline.executors import WARM_ENV as ENV      # set by LocalPoolExecutor

# a short letter without diacritics, so that restoration really runs (văn bản mất dấu)
SAMPLE = """UY BAN NHAN DAN TINH
So: 1/UBND-VP
Ha Noi, ngay 1 thang 1 nam 2025
Kinh gui: So Noi vu; So Y te.
1. So Noi vu chu tri, phoi hop voi So Y te thuc hien truoc ngay 30/6/2025.
KT. CHU TICH
PHO CHU TICH
"""


def warm_up(raw_config: dict) -> None:
    from pipeline.config import config_from_raw
    from pipeline.runner import process_text
    try:
        process_text(SAMPLE, "<warm-up>", config_from_raw(raw_config))
    except Exception:   # a broken config or model shows on the first real document, with its file
        pass


if os.environ.get(ENV):
    warm_up(json.loads(os.environ[ENV]))
