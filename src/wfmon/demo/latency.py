"""The shop's normal latency: a base per route with log-normal jitter.

Real services are right-skewed: most requests near the median, a long tail of slow ones. A
log-normal with median 1 reproduces that, so baselines and anomaly detection in wfmon see
something like production rather than a flat line.
"""

from __future__ import annotations

import random

JITTER_SIGMA = 0.35  # p99 is about 2.3x the median, typical of a small web app


def normal_latency_ms(base_ms: float, rng: random.Random, scale: float) -> float:
    """One request's artificial latency; `scale` 0 disables it without drawing from `rng`."""
    if scale <= 0 or base_ms <= 0:
        return 0.0
    return base_ms * rng.lognormvariate(0.0, JITTER_SIGMA) * scale
