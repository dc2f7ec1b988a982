"""Process-level tuning for the long-running commands (`wfmon run`, `wfmon serve`).

After start-up (modules imported, config loaded, database opened) tens of thousands of
long-lived objects exist; every full garbage collection would walk them again, for nothing.
`gc.freeze()` moves them out of the collector's sight, and a larger first generation lets
the short-lived objects of each execution (results, dicts, dataclasses) die young without a
collection per few hundred allocations. Measured with bench/engine.py's modes: 30 to 50 µs
of CPU less per execution of the run engine (see docs/benchmarks.md).
"""

from __future__ import annotations

import gc

GEN0_THRESHOLD = 10_000


def tune_gc() -> None:
    """Call once, when start-up is done."""
    gc.collect()
    gc.freeze()
    _, gen1, gen2 = gc.get_threshold()
    gc.set_threshold(GEN0_THRESHOLD, gen1, gen2)
