"""The verdict of `wfmon status`: pure functions of `StatusFacts` and `now`.

Each rule looks at one part of the facts and returns findings: a named reason (with the
level it implies) and/or a recommendation an operator can act on. `assess` keeps the
reasons, `recommend` the advice; both come from the same rules so they cannot disagree.

Levels, from best to worst, and the exit code of `wfmon status`:

* HEALTHY (0): the daemon is alive and nothing below applies.
* DEGRADED (1): it runs, but something needs a look: a workflow failing repeatedly, runs
  missed or overdue, a failing self health check (disk, lag, backlog, target), a slow
  database.
* DOWN (2): the database cannot be read, the daemon stopped sending heartbeats, or every
  workflow is failing (the target looks down).
* UNKNOWN (3): the daemon never ran against this database (no heartbeat, no tables).
"""

from __future__ import annotations

import shlex
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from wfmon.domain.run import ExecutionStatus
from wfmon.health import checks
from wfmon.scheduler.cron import latest_slot
from wfmon.status.facts import RunFacts, StatusFacts, WorkflowFacts
from wfmon.status.words import clock_time, duration_words, millis
from wfmon.storage.stats import FAILURE_STATUSES


class Level(StrEnum):
    HEALTHY = "HEALTHY"
    DEGRADED = "DEGRADED"
    DOWN = "DOWN"
    UNKNOWN = "UNKNOWN"

    @property
    def exit_code(self) -> int:
        return _EXIT_CODES[self]


# Also the order of severity when reasons are combined: not knowing (the daemon never ran)
# outranks everything, since no other verdict can be trusted then.
_EXIT_CODES = {Level.HEALTHY: 0, Level.DEGRADED: 1, Level.DOWN: 2, Level.UNKNOWN: 3}


@dataclass(frozen=True)
class Thresholds:
    """When a fact becomes a reason. The defaults are documented in docs/operations.md."""

    stale_after_intervals: float = 2.0  # a heartbeat older than this many intervals: DOWN
    slow_database_ms: float = 500.0
    failing_streak: int = 3  # this many failures in a row: failing repeatedly
    flapping_failures: int = 3  # ...or at least this many among the recent runs
    flapping_ratio: float = 0.5  # ...making at least this share of them
    overdue_grace_s: float = 120.0  # a slot with no execution this long after it: overdue


DEFAULT_THRESHOLDS = Thresholds()


@dataclass(frozen=True)
class Reason:
    """Why the assessment is what it is; `code` is stable for scripts."""

    code: str
    level: Level
    message: str
    subject: str | None = None  # the workflow or check it is about


@dataclass(frozen=True)
class Assessment:
    level: Level
    reasons: tuple[Reason, ...]

    @property
    def exit_code(self) -> int:
        return self.level.exit_code


@dataclass(frozen=True)
class Finding:
    reason: Reason | None = None
    advice: str | None = None


@dataclass(frozen=True)
class FailureSpell:
    """A workflow failing repeatedly: `failed` of its last `runs` runs, since `since`."""

    failed: int
    runs: int
    streak: int  # failures in a row, from the newest
    since: datetime  # the start of the oldest failure counted
    last_error: str | None
    latest_ok: bool


Rule = Callable[[StatusFacts, datetime, Thresholds], Iterable[Finding]]


def assess(
    facts: StatusFacts, now: datetime, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> Assessment:
    """HEALTHY, DEGRADED, DOWN or UNKNOWN, with every reason (worst first)."""
    reasons = [f.reason for f in findings(facts, now, thresholds) if f.reason is not None]
    if not reasons:
        return Assessment(Level.HEALTHY, (_all_green(facts, now),))
    reasons.sort(key=lambda r: -_EXIT_CODES[r.level])  # stable: rule order within a level
    return Assessment(reasons[0].level, tuple(reasons))


def recommend(
    facts: StatusFacts, now: datetime, thresholds: Thresholds = DEFAULT_THRESHOLDS
) -> list[str]:
    """What to do about it, one sentence each, most urgent first."""
    return [f.advice for f in findings(facts, now, thresholds) if f.advice is not None]


def findings(facts: StatusFacts, now: datetime, thresholds: Thresholds) -> list[Finding]:
    """Every rule's findings, in rule order. Nothing else is judged without a database."""
    if not facts.database.reachable or facts.database.revision is None:
        return list(_database_access(facts))
    return [f for rule in RULES for f in rule(facts, now, thresholds)]


# -- rules ------------------------------------------------------------------------------


def _database_access(facts: StatusFacts) -> Iterator[Finding]:
    db = facts.database
    if not db.reachable:
        yield Finding(
            Reason("database_unreachable", Level.DOWN, f"the database cannot be read: {db.error}"),
            f"the database at {db.url} cannot be read: check WFMON_DATABASE_URL (or "
            "WFMON_DATA_DIR) and that the database server is up",
        )
    elif db.revision is None:
        yield Finding(
            Reason(
                "database_empty",
                Level.UNKNOWN,
                "the database has no wfmon tables: the daemon never ran against it",
            ),
            f"nothing recorded at {db.url}: start the daemon with `wfmon run` (same "
            "WFMON_DATABASE_URL), or point WFMON_DATABASE_URL at the daemon's database",
        )


def database_rule(facts: StatusFacts, now: datetime, t: Thresholds) -> Iterator[Finding]:
    db = facts.database
    if db.head_revision is not None and db.revision != db.head_revision:
        yield Finding(
            advice=f"the database is at migration {db.revision}, this wfmon ships "
            f"{db.head_revision}: run `wfmon db upgrade` with the newer of the two versions "
            "(the daemon also migrates when it starts)"
        )
    latencies: list[tuple[str, float | None]] = [("measured now", db.ping_ms)]
    check = facts.check(checks.DATABASE)
    if check is not None and _fresh(check.checked_at, facts, now, t):
        latencies.append((f"daemon check {ago_words(check.checked_at, now)}", check.latency_ms))
    slow = [(how, ms) for how, ms in latencies if ms is not None and ms > t.slow_database_ms]
    if slow:
        how, worst = max(slow, key=lambda item: item[1])
        yield Finding(
            Reason(
                "database_slow",
                Level.DEGRADED,
                f"database latency {millis(worst)} ({how}), over {millis(t.slow_database_ms)}",
                checks.DATABASE,
            ),
            f"database latency {millis(worst)}: check the database host's load and the "
            "network to it (for SQLite, the disk under the data directory)",
        )


def heartbeat_rule(facts: StatusFacts, now: datetime, t: Thresholds) -> Iterator[Finding]:
    beat = facts.heartbeat
    every = duration_words(facts.interval_s)
    if beat is None:
        yield Finding(
            Reason(
                "no_heartbeat",
                Level.UNKNOWN,
                "no heartbeat recorded: the daemon has never run against this database",
            ),
            f"no heartbeat recorded: start the daemon with `wfmon run` (it records one every "
            f"{every}), using the same database",
        )
        return
    if not _fresh(beat.checked_at, facts, now, t):
        silent = duration_words((now - beat.checked_at).total_seconds())
        who = ", ".join(
            part
            for part in (
                f"instance {beat.instance}" if beat.instance else "",
                f"pid {beat.pid}" if beat.pid is not None else "",
            )
            if part
        )
        yield Finding(
            Reason(
                "heartbeat_stale",
                Level.DOWN,
                f"no heartbeat for {silent} (expected every {every}): the daemon is not running",
            ),
            f"no heartbeat for {silent}: is `wfmon run` running? The last one came at "
            f"{clock_time(beat.checked_at, now)}" + (f" from {who}" if who else ""),
        )


def checks_rule(facts: StatusFacts, now: datetime, t: Thresholds) -> Iterator[Finding]:
    for check in facts.checks:
        if check.ok or check.name == checks.HEARTBEAT:
            continue
        advice = _check_advice(check.name, check.detail, check.data)
        if not _fresh(check.checked_at, facts, now, t):
            # The daemon stopped checking (the heartbeat rule says so): no verdict on a
            # stale result, but a full disk may be why it stopped, so it is still advice.
            yield Finding(advice=f"{advice} (as of {clock_time(check.checked_at, now)})")
            continue
        yield Finding(
            Reason("check_failing", Level.DEGRADED, f"{check.name}: {check.detail}", check.name),
            advice,
        )


def workflows_rule(facts: StatusFacts, now: datetime, t: Thresholds) -> Iterator[Finding]:
    daemon_alive = facts.heartbeat is not None and _fresh(facts.heartbeat.checked_at, facts, now, t)
    failing: list[str] = []
    judged = 0
    for wf in facts.workflows:
        # Only what the daemon is meant to run: a workflow removed from the config (still
        # listed for a day with its runs) or disabled in it is shown but not judged.
        if wf.plan is None or not wf.plan.enabled:
            continue
        if wf.recent:
            judged += 1
        spell = failure_spell(wf.recent, t)
        if spell is not None:
            if spell.streak >= t.failing_streak:
                failing.append(wf.name)
            yield _failing(wf.name, spell, now)
        if wf.last_hour.missed:
            n = wf.last_hour.missed
            yield Finding(
                Reason(
                    "runs_missed",
                    Level.DEGRADED,
                    f"{wf.name}: {n} slot{_s(n)} missed in the last hour",
                    wf.name,
                ),
                f"{wf.name} missed {n} slot{_s(n)} in the last hour: the scheduler was not "
                "running then, or runs overlapped (`concurrency`); the daemon logs each one "
                "as event scheduler.missed",
            )
        if daemon_alive:
            yield from _overdue(wf, now, t)
    if failing and len(failing) == judged:
        yield Finding(
            Reason(
                "all_failing",
                Level.DOWN,
                f"every workflow with recent runs is failing ({len(failing)}): "
                "the target looks down",
            ),
            "every workflow is failing: check the target application itself (its health "
            "URL, its logs) before the workflows",
        )


def alerts_rule(facts: StatusFacts, now: datetime, t: Thresholds) -> Iterator[Finding]:
    """Firing alerts nobody acknowledged, and notifications that could not be delivered."""
    alerts = facts.alerts
    firing = alerts.firing
    if firing:
        worst = firing[0]
        n = len(firing)
        yield Finding(
            Reason(
                "alerts_firing",
                Level.DEGRADED,
                f"{n} alert{_s(n)} firing, not acknowledged (worst: {worst.severity.value} "
                f"{worst.workflow or 'wfmon'}: {worst.summary})",
                worst.workflow,
            ),
            f"{n} alert{_s(n)} firing: `wfmon alerts list` shows them; acknowledge with "
            "`wfmon alerts ack ID --note ...` to stop the reminders",
        )
    if alerts.dead:
        yield Finding(
            Reason(
                "notifications_dead",
                Level.DEGRADED,
                f"{alerts.dead} notification{_s(alerts.dead)} could not be delivered",
            ),
            "`wfmon notify list --status dead` shows why; fix the channel (`wfmon notify test "
            "NAME`), then `wfmon notify retry ID`",
        )
    stuck = alerts.oldest_due is not None and (now - alerts.oldest_due) > timedelta(minutes=10)
    if stuck and alerts.oldest_due is not None:
        yield Finding(
            Reason(
                "notifications_waiting",
                Level.DEGRADED,
                f"{alerts.pending} notification{_s(alerts.pending)} waiting, the oldest due "
                f"{ago_words(alerts.oldest_due, now)}",
            ),
            "notifications are waiting: a channel keeps failing (`wfmon notify list --status "
            "pending` shows the last error) or no daemon is sending them",
        )


RULES: tuple[Rule, ...] = (
    database_rule,
    heartbeat_rule,
    checks_rule,
    workflows_rule,
    alerts_rule,
)


# -- helpers ----------------------------------------------------------------------------


def failure_spell(recent: tuple[RunFacts, ...], t: Thresholds) -> FailureSpell | None:
    """A workflow's recent runs (newest first) as a spell of failures, if they are one:
    `failing_streak` failures in a row, or at least `flapping_failures` making at least
    `flapping_ratio` of the recent runs."""
    failed = [i for i, run in enumerate(recent) if run.status in FAILURE_STATUSES]
    if not failed:
        return None
    streak = next(
        (i for i, run in enumerate(recent) if run.status not in FAILURE_STATUSES), len(recent)
    )
    flapping = len(failed) >= max(t.flapping_failures, t.flapping_ratio * len(recent))
    if streak < t.failing_streak and not flapping:
        return None
    oldest = recent[failed[-1]]
    newest_failure = recent[failed[0]]
    return FailureSpell(
        failed=len(failed),
        runs=failed[-1] + 1,
        streak=streak,
        since=oldest.started_at,
        last_error=newest_failure.error,
        latest_ok=recent[0].status is ExecutionStatus.SUCCEEDED,
    )


def ago_words(when: datetime, now: datetime) -> str:
    return f"{duration_words((now - when).total_seconds())} ago"


def _failing(name: str, spell: FailureSpell, now: datetime) -> Finding:
    since = clock_time(spell.since, now)
    if spell.failed == spell.runs:
        summary = f"failed its last {spell.runs} runs, since {since}"
    else:
        summary = f"failed {spell.failed} of the last {spell.runs} runs since {since}"
    if spell.latest_ok:
        summary += " (the latest succeeded)"
    advice = f"{name} {summary}"
    if spell.last_error:
        advice += f": last error {spell.last_error}"
    advice += f"; see `wfmon executions --workflow {shlex.quote(name)}`"
    return Finding(Reason("workflow_failing", Level.DEGRADED, f"{name}: {summary}", name), advice)


def _overdue(wf: WorkflowFacts, now: datetime, t: Thresholds) -> Iterator[Finding]:
    plan = wf.plan
    if plan is None or plan.schedule is None:
        return
    if plan.created_at is None:
        yield Finding(
            advice=f"{wf.name} is in the config but not in the database: the daemon has not "
            "loaded it; it reloads on a change of the file or on SIGHUP"
        )
        return
    grace = timedelta(seconds=t.overdue_grace_s + plan.jitter_s)
    try:
        due = latest_slot(plan.schedule, now - grace)
    except ValueError:
        return
    if due is None or due <= plan.created_at:
        return
    late = [loc for loc in plan.locations if wf.last_slots.get(loc, plan.created_at) < due]
    if not late:
        return
    last = max((wf.last_slots[loc] for loc in late if loc in wf.last_slots), default=None)
    where = f" at {', '.join(late)}" if late != ["local"] else ""
    since = f"last slot {clock_time(last, now)}" if last is not None else "never ran"
    yield Finding(
        Reason(
            "workflow_overdue",
            Level.DEGRADED,
            f"{wf.name}: the slot at {clock_time(due, now)} has no execution{where} ({since})",
            wf.name,
        ),
        f"{wf.name} has not run the slot due at {clock_time(due, now)}{where} ({since}) "
        "although the daemon is alive: is it disabled in the config the daemon runs, or are "
        "runs stuck (see the backlog check)?",
    )


def _check_advice(name: str, detail: str, data: dict[str, object]) -> str:
    if name == checks.DISK:
        free = data.get("free_mb")
        where = data.get("path")
        amount = f"{free:,.0f} MB free" if isinstance(free, int | float) else detail
        return (
            f"disk: {amount}" + (f" at {where}" if where else "") + ": prune old reports and "
            "logs, shorten retention, or grow the volume"
        )
    if name == checks.TARGET:
        return f"the target's health URL fails ({detail}): check the application itself"
    if name == checks.LAG:
        return (
            f"scheduler lag: {detail}: raise daemon.max_concurrency or spread start times "
            "with `jitter`"
        )
    if name == checks.BACKLOG:
        return f"backlog: {detail}: raise daemon.max_concurrency, or shorten slow workflows"
    if name == checks.DATABASE:
        return f"the daemon could not reach its database ({detail})"
    return f"health check {name} fails: {detail}"


def _all_green(facts: StatusFacts, now: datetime) -> Reason:
    beat = facts.heartbeat
    alive = f"daemon alive (last heartbeat {ago_words(beat.checked_at, now)})" if beat else ""
    active = sum(1 for w in facts.workflows if w.plan is not None and w.plan.enabled)
    parts = [
        alive,
        f"{active} workflow{_s(active)} without repeated failures",
        "every health check ok",
    ]
    return Reason("all_green", Level.HEALTHY, ", ".join(p for p in parts if p))


def _fresh(when: datetime, facts: StatusFacts, now: datetime, t: Thresholds) -> bool:
    return (now - when).total_seconds() <= t.stale_after_intervals * facts.interval_s


def _s(n: int) -> str:
    return "" if n == 1 else "s"
