"""Replay the demo shop over simulated weeks: the six journeys on their schedules, each
request's latency from the shop's own latency model and its fault from the shop's own
`decide()`, with seasonal load, noise and injected faults. No HTTP and no real clock: a
4-week corpus (about 14,000 executions) takes a couple of seconds.

Every failed run carries its cause (the id of the fault that broke it, or None for the
background noise), and every fault a labelled window per journey it touches: the labels the
backtest scores against.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from datetime import datetime, timedelta

from wfmon.analytics.corpus.faults import InjectedFault, plan_at, schedule_faults
from wfmon.analytics.corpus.journeys import HOST, Journey, JourneyStep, demo_journeys
from wfmon.analytics.corpus.settings import CorpusSettings, load_settings
from wfmon.analytics.runs import RunFacts, StepFacts
from wfmon.demo.faults import FaultPlan, decide
from wfmon.demo.latency import normal_latency_ms
from wfmon.domain.run import AssertionResult
from wfmon.scheduler.cron import iter_slots

RESET = "ServerDisconnectedError: Server disconnected (connection reset by peer)"
RETRY_BACKOFF_S = 2.0


@dataclass(frozen=True)
class FaultWindow:
    """A labelled window: `fault` made `workflow` abnormal from `start` to `end`."""

    fault: str
    kind: str
    workflow: str
    start: datetime
    end: datetime
    # Whether a request of one of the journey's runs inside the window met the fault (an
    # error drawn, a down endpoint, a latency it added). A 5 % error rate that none of a
    # journey's four requests drew in its one run left nothing to detect: such windows are
    # reported apart, since counting them would measure the dice, not the detector.
    observable: bool = True


@dataclass(frozen=True)
class Corpus:
    seed: int
    settings: CorpusSettings
    runs: tuple[RunFacts, ...]  # in time order
    causes: tuple[str | None, ...]  # per run: the fault that failed it, if it failed
    met: tuple[frozenset[str], ...]  # per run: the faults whose effect its requests met
    faults: tuple[InjectedFault, ...]
    windows: tuple[FaultWindow, ...]
    max_ms: dict[tuple[str, str], float]  # (workflow, step) -> its duration limit

    @property
    def workflows(self) -> tuple[str, ...]:
        return tuple(sorted({r.workflow for r in self.runs}))


def load_factor(settings: CorpusSettings, now: datetime) -> float:
    """The seasonal load's latency multiplier at `now`: a daily bump, lighter weekends."""
    load = settings.load
    hour = now.hour + now.minute / 60.0
    distance = min(abs(hour - load.peak_hour_utc), 24.0 - abs(hour - load.peak_hour_utc))
    factor = 1.0 + load.peak * math.exp(-0.5 * (distance / load.peak_width_h) ** 2)
    if now.weekday() >= 5:
        factor = 1.0 + (factor - 1.0) * load.weekend_factor
    return factor


class _Simulator:
    def __init__(self, settings: CorpusSettings, rng: random.Random) -> None:
        self.settings = settings
        self.rng = rng
        self.met: set[str] = set()  # the faults the current run's requests met

    def request_ms(
        self,
        step: JourneyStep,
        plan: FaultPlan,
        now: datetime,
        active: tuple[InjectedFault, ...] = (),
    ) -> tuple[float, int | None, str]:
        """(latency, fault status or None, decision reason) of one request."""
        rng = self.rng
        noise = self.settings.noise
        overhead = noise.overhead_ms * rng.lognormvariate(0.0, 0.25)
        if step.endpoint is None:  # the TCP connect: loopback, no shop latency
            return overhead * 0.2, None, "none"
        decision = decide(plan, step.endpoint, now, rng)
        if active and decision.reason != "none":
            self.met.update(_met(active, decision.reason, step.endpoint))
        normal = normal_latency_ms(step.base_ms, rng, load_factor(self.settings, now))
        latency = (normal + decision.extra_latency_ms) * decision.latency_factor
        if rng.random() < noise.outlier_rate:
            latency *= rng.uniform(*noise.outlier_factor)
        return latency + overhead, decision.status, decision.reason

    def attempt(
        self, journey: Journey, now: datetime, plan: FaultPlan, active: tuple[InjectedFault, ...]
    ) -> tuple[list[StepFacts], str, str | None]:
        steps: list[StepFacts] = []
        status = "succeeded"
        cause: str | None = None
        rng = self.rng
        for step in journey.steps:
            if status != "succeeded" and not step.always_run:
                steps.append(StepFacts(step.name, "skipped", 0.0))
                continue
            url = f"http://{HOST}{step.path}" if step.kind == "http" else f"tcp://{HOST}"
            total, fault_status, reason = self.request_ms(step, plan, now, active)
            now += timedelta(milliseconds=total)
            if rng.random() < self.settings.noise.request_error_rate and step.kind == "http":
                steps.append(StepFacts(step.name, "error", total, None, RESET, step.method, url))
                status = "error" if status == "succeeded" else status
                continue
            ttfb = max(0.0, total - 0.2 * self.settings.noise.overhead_ms)
            error: str | None = None
            answered = fault_status or step.expect_status
            if fault_status is not None and fault_status != step.expect_status:
                check = AssertionResult("status", "==", step.expect_status, fault_status, False)
                error = check.describe()
                if cause is None and status == "succeeded":
                    cause = _cause(active, reason, step)
            elif step.max_ms is not None and total > step.max_ms:
                check = AssertionResult(
                    "duration", "<=", f"{step.max_ms:g} ms", f"{total:.0f} ms", False
                )
                error = check.describe()
                if cause is None and status == "succeeded":
                    cause = _cause(active, "latency", step)
            steps.append(
                StepFacts(
                    step.name,
                    "failed" if error else "succeeded",
                    total,
                    ttfb,
                    error,
                    step.method,
                    url,
                    answered,
                )
            )
            if error and status == "succeeded":
                status = "failed"
        return steps, status, cause

    def run(
        self, journey: Journey, slot: datetime, faults: tuple[InjectedFault, ...]
    ) -> tuple[RunFacts, str | None]:
        rng = self.rng
        self.met = set()
        started = slot + timedelta(seconds=rng.uniform(0.0, self.settings.noise.start_jitter_s))
        now = started
        for attempt in range(journey.retries + 1):
            plan, active = plan_at(faults, now)
            steps, status, cause = self.attempt(journey, now, plan, active)
            duration = sum(s.total_ms for s in steps)
            if status == "succeeded" or attempt == journey.retries:
                break
            now += timedelta(milliseconds=duration, seconds=RETRY_BACKOFF_S)
        failed = next((s for s in steps if s.status in ("failed", "error")), None)
        error = f"{failed.name}: {failed.error}" if failed is not None else None
        run = RunFacts(
            journey.name, started, status, duration, error, tuple(steps), attempts=attempt + 1
        )
        return run, cause if status != "succeeded" else None


# Which active fault explains a failure, most specific first.
_CAUSES = {
    "down": ("outage", "nightly"),
    "bad_deploy": ("bad_deploy",),
    "error_rate": ("flaky",),
    "latency": ("degradation", "bad_deploy", "level_shift"),
}


def _cause(active: tuple[InjectedFault, ...], reason: str, step: JourneyStep) -> str | None:
    for kind in _CAUSES.get(reason, ()):
        for fault in active:
            if fault.kind != kind:
                continue
            if kind == "level_shift" and fault.target != step.endpoint:
                continue
            return fault.id
    return None


# Which active faults a request's decision reason comes from.
_REASONS = {
    "down": ("outage", "nightly"),
    "bad_deploy": ("bad_deploy",),
    "error_rate": ("flaky",),
    "latency": ("level_shift",),
    "degradation": ("degradation",),
}


def _met(active: tuple[InjectedFault, ...], reason: str, endpoint: str) -> set[str]:
    met: set[str] = set()
    for part in reason.split("+"):
        for fault in active:
            if fault.kind not in _REASONS.get(part, ()):
                continue
            if fault.kind in ("outage", "level_shift") and fault.target != endpoint:
                continue
            met.add(fault.id)
    return met


def _touches(journey: Journey, fault: InjectedFault) -> bool:
    return any(s.endpoint in fault.endpoints for s in journey.steps if s.endpoint is not None)


def generate(seed: int, settings: CorpusSettings | None = None) -> Corpus:
    """The corpus of `seed` under `settings` (the packaged default when None)."""
    settings = settings or load_settings()
    # Not security-sensitive: a simulation, seeded to be replayable.
    rng = random.Random(seed)  # noqa: S311
    faults = schedule_faults(settings, rng)
    journeys = demo_journeys()
    slots: list[tuple[datetime, int]] = []
    for index, journey in enumerate(journeys):
        for slot in iter_slots(journey.schedule, settings.start - timedelta(microseconds=1)):
            if slot >= settings.end:
                break
            slots.append((slot, index))
    slots.sort()
    simulator = _Simulator(settings, rng)
    runs: list[RunFacts] = []
    causes: list[str | None] = []
    met: list[frozenset[str]] = []
    for slot, index in slots:
        run, cause = simulator.run(journeys[index], slot, faults)
        runs.append(run)
        causes.append(cause)
        met.append(frozenset(simulator.met))
    windows = tuple(
        FaultWindow(
            f.id,
            f.kind,
            j.name,
            f.start,
            f.label_end,
            any(
                f.id in m
                for r, m in zip(runs, met, strict=True)
                if r.workflow == j.name and f.start <= r.at < f.label_end
            ),
        )
        for f in faults
        for j in journeys
        if _touches(j, f)
    )
    max_ms = {(j.name, s.name): s.max_ms for j in journeys for s in j.steps if s.max_ms is not None}
    return Corpus(seed, settings, tuple(runs), tuple(causes), tuple(met), faults, windows, max_ms)
