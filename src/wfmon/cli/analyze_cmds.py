"""`wfmon analyze ...`: anomalies, incidents, trends, forecasts, the backtest, and scoring
any CSV with the product's detector."""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Annotated, TypeVar

import typer
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from wfmon.analytics.anomaly import DEFAULT_SENSITIVITY, DEFAULT_THRESHOLD, threshold_for
from wfmon.analytics.api import parse_since
from wfmon.analytics.detectors import DEFAULT_DETECTOR, DETECTORS
from wfmon.analytics.forecast import forecast as make_forecast
from wfmon.analytics.patterns import find_patterns
from wfmon.analytics.predictions import predict as predict_failures
from wfmon.analytics.predictions import step_limits
from wfmon.analytics.report import run_backtest
from wfmon.analytics.runs import RATE_METRICS, points
from wfmon.analytics.scoreseries import score_path
from wfmon.analytics.signatures import failure_of
from wfmon.analytics.trends import daily_quantile, describe, trend
from wfmon.cli.common import (
    EXIT_CONFIG,
    EXIT_FAILED,
    EXIT_OK,
    ConfigOption,
    JsonOption,
    console,
    err_console,
    run,
    settings,
)
from wfmon.clock import SystemClock
from wfmon.config.base import parse_duration
from wfmon.errors import StorageError
from wfmon.storage.analytics import AnalyticsRepository
from wfmon.storage.db import open_database
from wfmon.storage.workflows import WorkflowRepository

T = TypeVar("T")

app = typer.Typer(
    name="analyze",
    help="Baselines, anomalies, incidents, trends and forecasts.",
    no_args_is_help=True,
)

WorkflowOption = Annotated[str | None, typer.Option("--workflow", "-w", help="Only this workflow.")]
SinceOption = Annotated[
    str, typer.Option("--since", help="From this long ago (24h, 7d) or an ISO time.")
]


def register(parent: typer.Typer) -> None:
    parent.add_typer(app, name="analyze")


def _since(value: str) -> datetime:
    now = SystemClock().now()
    try:
        found = parse_since(value, now)
    except ValueError as error:
        raise typer.BadParameter(str(error), param_hint="--since") from error
    return found or now - timedelta(days=7)


async def _repo(config: Path | None) -> tuple[AnalyticsRepository, WorkflowRepository, object]:
    db = await open_database(settings(config).database_url, upgrade=False)
    return AnalyticsRepository(db), WorkflowRepository(db), db


def _read(config: Path | None, use: Callable[[AnalyticsRepository], Awaitable[T]]) -> T:
    """`use` the analytics repository of the configured database, then close it; a
    database that cannot be read exits with a clear message."""

    async def go() -> T:
        repo, _w, db = await _repo(config)
        try:
            return await use(repo)
        finally:
            await db.dispose()  # type: ignore[attr-defined]

    try:
        return run(go())
    except StorageError as error:
        raise _fail(error) from error


def _fail(error: StorageError) -> typer.Exit:
    err_console.print(f"[red]cannot read the database:[/red] {error}", markup=True)
    return typer.Exit(EXIT_CONFIG)


@app.command("detectors")
def detectors() -> None:
    """The registered detectors, the shipped one, and the decision threshold."""
    table = Table("detector", "what it is")
    for spec in DETECTORS.values():
        name = f"{spec.name} (shipped)" if spec.name == DEFAULT_DETECTOR else spec.name
        table.add_row(name, spec.summary)
    table.add_row("failures", "success-rate series: binomial surprise of recent failures")
    console.print(table)
    console.print(
        f"decision threshold: score >= {DEFAULT_THRESHOLD} (sensitivity {DEFAULT_SENSITIVITY}; "
        f"threshold = 1 - sensitivity, e.g. sensitivity 0.7 -> {threshold_for(0.7):.1f})"
    )


@app.command("score-series")
def score_series(
    source: Annotated[
        Path,
        typer.Argument(help="A CSV with timestamp,value, or a directory of them.", exists=True),
    ],
    output: Annotated[Path, typer.Option("--output", "-o", help="The scored CSV (or directory).")],
    detector: Annotated[
        str, typer.Option("--detector", help="One of `wfmon analyze detectors`.")
    ] = DEFAULT_DETECTOR,
) -> None:
    """Add an anomaly_score column (0-1, causal, one pass) to timestamp,value CSVs."""
    if detector not in DETECTORS:
        raise typer.BadParameter(f"use one of {', '.join(DETECTORS)}", param_hint="--detector")
    if source.is_dir() and output.exists() and not output.is_dir():
        raise typer.BadParameter("a directory is scored into a directory", param_hint="--output")
    done = score_path(source, output, detector)
    rows = sum(n for _, n in done)
    err_console.print(f"scored {rows:,} rows in {len(done)} file(s) into {output}", markup=False)


@app.command("backtest")
def backtest(
    seeds: Annotated[
        list[int] | None, typer.Option("--seed", help="Corpus seed(s); default: the report seeds.")
    ] = None,
    detector: Annotated[
        list[str] | None, typer.Option("--detector", help="Also score these detectors.")
    ] = None,
    days: Annotated[
        float | None, typer.Option("--days", help="A shorter corpus (default: its settings).")
    ] = None,
    no_forecast: Annotated[
        bool, typer.Option("--no-forecast", help="Skip the (slow) forecast backtest.")
    ] = False,
    as_json: JsonOption = False,
) -> None:
    """The quality figures on the labelled corpus, beside the naive baselines, PASS/FAIL."""
    from wfmon.analytics.corpus.settings import load_settings

    conf = load_settings()
    if days is not None:
        conf = conf.with_days(days, min(conf.warmup_days, days / 3))
    names = tuple(dict.fromkeys([DEFAULT_DETECTOR, *(detector or [])]))
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=err_console,
        transient=True,
    ) as bar:
        task = bar.add_task("backtest", total=None)
        report = run_backtest(
            seeds,
            settings=conf,
            detectors=names,
            forecasts=not no_forecast,
            progress=lambda m: bar.update(task, description=m),
        )
    targets = report.targets()
    if as_json:
        print(json.dumps([t.__dict__ for t in targets], indent=2))
    else:
        console.print(f"corpus v{report.version}, seeds {', '.join(map(str, report.seeds))}")
        table = Table("", "figure", "measured", "target", "baseline")
        for t in targets:
            table.add_row(
                ""
                if t.passed is None
                else "[green]PASS[/green]"
                if t.passed
                else "[red]FAIL[/red]",
                t.name,
                t.actual,
                t.goal,
                t.baseline,
            )
        console.print(table)
        kinds = Table(
            "detector",
            "windows found",
            "faults found",
            "median delay",
            "false alarms/series/day",
            "by fault kind",
        )
        for name in report.detection:
            p = report.pooled(name)
            by_kind = ", ".join(f"{k} {a}/{b}" for k, (a, b) in p.by_kind.items())
            kinds.add_row(
                name,
                f"{p.recall:.1%}",
                f"{p.fault_recall:.1%}",
                f"{p.median_delay}",
                f"{p.false_alarm_rate:.4f}",
                by_kind,
            )
        console.print(kinds)
    raise typer.Exit(EXIT_OK if all(t.passed is not False for t in targets) else EXIT_FAILED)


@app.command("anomalies")
def anomalies(
    config: ConfigOption = None,
    workflow: WorkflowOption = None,
    since: SinceOption = "7d",
    as_json: JsonOption = False,
) -> None:
    """Anomaly episodes the daemon found, newest first."""
    start = _since(since)

    async def use(repo: AnalyticsRepository) -> list[dict[str, object]]:
        return [
            a.to_json() for a in await repo.anomalies(workflow=workflow, since=start, limit=500)
        ]

    found = _read(config, use)
    if as_json:
        print(json.dumps(found, indent=2))
        return
    table = Table("started", "ended", "score", "reason")
    for a in found:
        table.add_row(
            str(a["started_at"])[:16],
            str(a["ended_at"] or "open")[:16],
            f"{a['score']:.2f}",
            str(a["reason"]),
        )
    console.print(table if found else "no anomalies in this period")


@app.command("incidents")
def incidents(
    config: ConfigOption = None,
    workflow: WorkflowOption = None,
    since: SinceOption = "7d",
    as_json: JsonOption = False,
) -> None:
    """Incidents (correlated failures with a probable cause) and recurring failure patterns."""
    start = _since(since)

    async def go() -> tuple[list[dict[str, object]], list[str]]:
        repo, _w, db = await _repo(config)
        try:
            found = [
                i.to_json() for i in await repo.incidents(workflow=workflow, since=start, limit=500)
            ]
            failures = [
                f for f in map(failure_of, await repo.runs(since=start, workflow=workflow)) if f
            ]
            return found, [p.describe() for p in find_patterns(failures) if p.count >= 2][:20]
        finally:
            await db.dispose()  # type: ignore[attr-defined]

    try:
        found, patterns = run(go())
    except StorageError as error:
        raise _fail(error) from error
    if as_json:
        print(json.dumps({"incidents": found, "patterns": patterns}, indent=2))
        return
    for i in found:
        console.print(
            f"{'OPEN ' if i['open'] else ''}{i['failures']} failures: {i['description']}",
            markup=False,
        )
    if not found:
        console.print("no incidents in this period")
    if patterns:
        console.print("\nfailure patterns:")
        for line in patterns:
            console.print(f"  {line}", markup=False)


async def _series(
    config: Path | None, workflow: str | None, start: datetime
) -> tuple[dict[tuple[str, str, str], list[tuple[datetime, float]]], dict[tuple[str, str], float]]:
    repo, workflows, db = await _repo(config)
    try:
        runs = await repo.runs(since=start, workflow=workflow)
        limits = step_limits((r.name, r.definition) for r in await workflows.list())
    finally:
        await db.dispose()  # type: ignore[attr-defined]
    series: dict[tuple[str, str, str], list[tuple[datetime, float]]] = defaultdict(list)
    for r in runs:
        for p in points(r):
            if p.metric not in RATE_METRICS:
                series[(r.workflow, p.step, p.metric)].append((r.at, p.value))
    return series, limits


@app.command("trends")
def trends(
    config: ConfigOption = None,
    workflow: WorkflowOption = None,
    since: SinceOption = "28d",
    as_json: JsonOption = False,
) -> None:
    """Daily p95 slopes (Theil-Sen, Mann-Kendall) and when a rising one crosses its limit."""
    start = _since(since)
    try:
        series, limits = run(_series(config, workflow, start))
    except StorageError as error:
        raise _fail(error) from error
    out = []
    for (wf, step, metric), pts in sorted(series.items()):
        daily = daily_quantile(pts)
        found = trend(
            [d for d, _ in daily],
            [v for _, v in daily],
            limits.get((wf, step)) if metric == "duration" else None,
        )
        if found is None:
            continue
        name = f"{wf}{' ' + step if step else ''} {metric} p95"
        out.append(
            {
                "workflow": wf,
                "step": step or None,
                "series": metric,
                "text": describe(name, found),
                **found.__dict__,
            }
        )
    if as_json:
        print(json.dumps(out, indent=2, default=str))
    elif not out:
        console.print("not enough history for trends (5 days or more)")
    for item in [] if as_json else out:
        console.print(str(item["text"]), markup=False)


@app.command("forecast")
def forecast(
    config: ConfigOption = None,
    workflow: WorkflowOption = None,
    since: SinceOption = "28d",
    horizon: Annotated[str, typer.Option("--horizon", help="How far ahead (24h, 3d).")] = "24h",
    as_json: JsonOption = False,
) -> None:
    """Latency forecasts of each workflow's duration with 95 % intervals (seasonal or naive)."""
    start = _since(since)
    ahead = parse_duration(horizon)
    try:
        series, _limits = run(_series(config, workflow, start))
    except StorageError as error:
        raise _fail(error) from error
    out = []
    chosen = [
        (k, v)
        for k, v in sorted(series.items())
        if not k[1] and k[2] == "duration" and len(v) >= 10
    ]
    with Progress(TextColumn("{task.description}"), console=err_console, transient=True) as bar:
        task = bar.add_task("forecasting", total=len(chosen))
        for (wf, _step, _metric), pts in chosen:
            bar.update(task, description=f"forecasting {wf}", advance=1)
            result = make_forecast([p[0].timestamp() for p in pts], [p[1] for p in pts], ahead)
            out.append({"workflow": wf, **result.__dict__})
    if as_json:
        print(json.dumps(out, indent=2))
        return
    for item in out:
        mean, low, high = item["mean"], item["low"], item["high"]
        assert isinstance(mean, tuple)
        assert isinstance(low, tuple)
        assert isinstance(high, tuple)
        console.print(
            f"{item['workflow']}: {item['method']}, next {mean[0]:.0f} ms "
            f"({low[0]:.0f}-{high[0]:.0f}), in {horizon} {mean[-1]:.0f} ms "
            f"({low[-1]:.0f}-{high[-1]:.0f})",
            markup=False,
        )


@app.command("predict")
def predict(
    config: ConfigOption = None,
    workflow: WorkflowOption = None,
    since: SinceOption = "3d",
    as_json: JsonOption = False,
) -> None:
    """Per workflow: the probability that one of its next 3 runs fails, and why."""
    start = _since(since)

    async def use(repo: AnalyticsRepository) -> list[dict[str, object]]:
        runs = await repo.runs(since=start, workflow=workflow, limit=50_000, newest=True)
        limits = step_limits(await repo.definitions())
        return [p.to_json() for p in predict_failures(runs, limits)]

    found = _read(config, use)
    if as_json:
        print(json.dumps(found, indent=2))
        return
    if not found:
        console.print("no runs in this period")
        return
    table = Table("workflow", "next 3 runs", "probability of a failure", "why")
    for p in found:
        table.add_row(
            str(p["workflow"]),
            "[red]at risk[/red]" if p["at_risk"] else "calm",
            f"{p['probability']:.0%}",
            str(p["reason"]),
        )
    console.print(table)
