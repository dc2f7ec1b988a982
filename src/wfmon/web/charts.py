"""The two small charts drawn on the server, as plain numbers for SVG attributes.

The execution waterfall and the overview's sparklines need no chart library: percentages
for `<rect x= width=>` and a `points=` list, written into the page by the templates (SVG
presentation attributes, not `style=`, so the Content-Security-Policy needs no
'unsafe-inline'). The pages are complete before any script runs. Pure functions.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from wfmon.api.schemas import ExecutionDetailOut, StepOut

# Phases of an HTTP step in the order they happen. `ttfb` is the wait for the response
# headers after DNS and connect (as the probe measures it); `transfer` is the rest of the
# step: reading the body, assertions, redirects.
PHASES = ("dns", "connect", "tls", "ttfb", "transfer")
PHASE_NAMES = {
    "dns": "DNS",
    "connect": "Connect",
    "tls": "TLS",
    "ttfb": "Waiting (TTFB)",
    "transfer": "Transfer & checks",
}


@dataclass(frozen=True)
class Segment:
    phase: str
    start: float  # percent of the chart's width
    width: float
    ms: float


@dataclass(frozen=True)
class Bar:
    step: StepOut
    offset_ms: float
    start: float
    width: float
    segments: tuple[Segment, ...]


@dataclass(frozen=True)
class Waterfall:
    span_ms: float
    bars: tuple[Bar, ...]
    ticks: tuple[tuple[float, float], ...]  # (percent, ms)


def _pct(ms: float, span: float) -> float:
    return round(ms / span * 100.0, 3)


def phase_times(step: StepOut) -> list[tuple[str, float]]:
    """The phases that happened, in ms; they add up to the step's total."""
    t = step.timings
    measured = [
        (name, value)
        for name, value in (
            ("dns", t.dns_ms),
            ("connect", t.connect_ms),
            ("tls", t.tls_ms),
            ("ttfb", t.ttfb_ms),
        )
        if value is not None and value > 0
    ]
    known = sum(value for _, value in measured)
    total = max(t.total_ms, 0.0)
    if known > total > 0:  # clocks disagree by a hair: shrink to the total
        measured = [(name, value * total / known) for name, value in measured]
        known = total
    rest = total - known
    if rest > 0 or not measured:
        measured.append(("transfer", rest))
    return measured


def nice_step(span: float, most: int = 5) -> float:
    """A round tick interval (1, 2 or 5 times a power of ten) giving at most `most` ticks."""
    if span <= 0:
        return 1.0
    raw = span / most
    power = 10.0 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def waterfall(execution: ExecutionDetailOut) -> Waterfall:
    offsets = [
        max(0.0, (step.started_at - execution.started_at).total_seconds() * 1000.0)
        for step in execution.steps
    ]
    ends = [o + max(s.timings.total_ms, 0.0) for o, s in zip(offsets, execution.steps, strict=True)]
    span = max([*ends, execution.duration_ms or 0.0, 1.0])
    bars = []
    for offset, step in zip(offsets, execution.steps, strict=True):
        at = offset
        segments = []
        for phase, ms in phase_times(step):
            segments.append(Segment(phase, _pct(at, span), _pct(ms, span), round(ms, 1)))
            at += ms
        bars.append(
            Bar(
                step=step,
                offset_ms=round(offset, 1),
                start=_pct(offset, span),
                width=max(_pct(step.timings.total_ms, span), 0.4),  # always a visible sliver
                segments=tuple(segments),
            )
        )
    every = nice_step(span)
    count = int(span // every)
    ticks = tuple((_pct(i * every, span), i * every) for i in range(count + 1))
    return Waterfall(span_ms=span, bars=tuple(bars), ticks=ticks)


@dataclass(frozen=True)
class Sparkline:
    points: str  # for <polyline points=...>
    failures: tuple[tuple[float, float], ...]  # (x, y) of failed runs, for dots
    data: str  # "ms:1,ms:0,...", read back by the browser to append live runs
    low_ms: float
    high_ms: float


WIDTH, HEIGHT, PAD = 120.0, 32.0, 3.0


def sparkline(runs: Sequence[tuple[float, bool]]) -> Sparkline | None:
    """Durations of the latest runs (oldest first, with whether each succeeded)."""
    if not runs:
        return None
    values = [ms for ms, _ in runs]
    low, high = min(values), max(values)
    spread = high - low or 1.0
    gap = WIDTH / (len(runs) - 1) if len(runs) > 1 else 0.0
    coords = []
    for i, ms in enumerate(values):
        x = i * gap if len(runs) > 1 else WIDTH / 2
        y = HEIGHT - PAD - (ms - low) / spread * (HEIGHT - 2 * PAD)
        coords.append((round(x, 1), round(y, 1)))
    return Sparkline(
        points=" ".join(f"{x},{y}" for x, y in coords),
        failures=tuple(c for c, (_, ok) in zip(coords, runs, strict=True) if not ok),
        data=",".join(f"{ms:.1f}:{int(ok)}" for ms, ok in runs),
        low_ms=low,
        high_ms=high,
    )
