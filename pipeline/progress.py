"""The progress bar of a run: documents/s, pages/s and ETA on stderr; silent when not a terminal."""
from __future__ import annotations

import sys
import time
from typing import Optional


class Progress:
    def __init__(self, total: int, skipped: int = 0, enabled: Optional[bool] = None,
                 desc: str = "directives"):
        if enabled is None:
            enabled = sys.stderr.isatty()
        self.enabled = enabled and total > 0
        self.started = time.perf_counter()
        self.pages = 0
        self.docs = 0
        self.failed = 0
        self.bar = None
        if self.enabled:
            from tqdm import tqdm
            self.bar = tqdm(total=total, unit="doc", desc=desc, file=sys.stderr,
                            dynamic_ncols=True, smoothing=0.1,
                            postfix={"skipped": skipped} if skipped else None)

    def update(self, pages: int = 0, failed: bool = False) -> None:
        self.docs += 1
        self.pages += pages
        self.failed += bool(failed)
        if self.bar is not None:
            elapsed = max(time.perf_counter() - self.started, 1e-6)
            self.bar.set_postfix_str(f"{self.pages / elapsed:.2f} pages/s, {self.failed} failed",
                                     refresh=False)
            self.bar.update(1)

    def close(self) -> None:
        if self.bar is not None:
            self.bar.close()
            self.bar = None
