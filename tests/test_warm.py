"""Warm-up of worker processes (pipeline/warm.py): the models are loaded before any document,
and warming changes no record."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SEED = Path(__file__).resolve().parents[2] / "shared" / "seeds" / "004_7377f7c58ea67fe5.txt"


def test_warm_up_loads_the_configured_models_in_a_fresh_process():
    """In a fresh interpreter (as the forkserver is), importing pipeline.warm with the config in
    its environment leaves the restorer and the agency matcher loaded."""
    from pipeline.config import load_config
    code = ("import pipeline.warm\n"
            "from normalizers.diacritics import _get_restorer\n"
            "from extractors.agencies import phrase_matcher\n"
            "print(_get_restorer.cache_info().currsize, phrase_matcher.cache_info().currsize)\n")
    env = {"DIRECTIVES_WARM_CONFIG": json.dumps(load_config().raw), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], cwd=REPO, env=env, capture_output=True,
                         text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.split() == ["1", "1"]


def test_records_are_the_same_warm_or_cold(tmp_path):
    """A document read after the warm-up letter gives the record it gives in a cold process."""
    from pipeline.config import load_config
    from pipeline.runner import process_file
    from pipeline.warm import warm_up
    cold = subprocess.run(
        [sys.executable, "-c",
         "import json, sys; from pipeline.config import load_config; "
         "from pipeline.runner import process_file; "
         f"print(json.dumps(process_file({str(SEED)!r}, {str(SEED.parent)!r}, load_config()).document, "
         "ensure_ascii=False, sort_keys=True, default=str))"],
        cwd=REPO, capture_output=True, text=True, timeout=300)
    assert cold.returncode == 0, cold.stderr[-2000:]
    warm_up(load_config().raw)
    warm = process_file(SEED, SEED.parent, load_config()).document
    assert json.loads(cold.stdout) == json.loads(json.dumps(warm, ensure_ascii=False, sort_keys=True, default=str))
