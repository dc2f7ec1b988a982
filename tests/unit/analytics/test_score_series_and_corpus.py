"""score-series round trip, and the corpus backtest's models against their naive baselines
on a short corpus."""

from __future__ import annotations

import csv
from datetime import datetime
from pathlib import Path

import pytest

from wfmon.analytics.backtest import evaluate_detection, model_detector, naive_detector
from wfmon.analytics.corpus.generator import generate
from wfmon.analytics.corpus.settings import load_settings
from wfmon.analytics.scoreseries import score_path
from wfmon.analytics.scoring import score_grouping, score_prediction


def _write(path: Path, rows: list[tuple[str, str]]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["timestamp", "value"])
        writer.writerows(rows)


def test_score_series_keeps_rows_and_order_and_mirrors_directories(tmp_path: Path) -> None:
    rows = [(f"2026-01-01T00:{i // 60:02d}:{i % 60:02d}Z", str(10 + (i % 5))) for i in range(300)]
    rows[150] = (rows[150][0], "900")  # a spike
    rows[200] = (rows[200][0], "")  # a missing value
    _write(tmp_path / "in" / "a.csv", rows)
    _write(
        tmp_path / "in" / "deep" / "b.csv", [(str(1_700_000_000 + i), str(-i)) for i in range(50)]
    )
    done = score_path(tmp_path / "in", tmp_path / "out")
    assert sorted(str(p.relative_to(tmp_path / "out")) for p, _ in done) == ["a.csv", "deep/b.csv"]
    with (tmp_path / "out" / "a.csv").open() as f:
        out = list(csv.reader(f))
    assert out[0] == ["timestamp", "value", "anomaly_score"]
    assert [tuple(r[:2]) for r in out[1:]] == rows
    scores = [float(r[2]) for r in out[1:]]
    assert all(0.0 <= s <= 1.0 for s in scores)
    assert scores[150] == max(scores)
    assert scores[200] == 0.0


@pytest.fixture(scope="module")
def corpus():  # type: ignore[no-untyped-def]
    return generate(7, load_settings().with_days(12, warmup_days=4))


def test_detection_beats_paging_on_every_failure(corpus) -> None:  # type: ignore[no-untyped-def]
    model = evaluate_detection(corpus, model_detector())
    naive = evaluate_detection(corpus, naive_detector(), "naive")
    assert model.windows > 10
    assert model.recall > naive.recall
    assert model.false_alarm_rate <= 0.05


def test_incidents_group_failures_better_than_per_workflow(corpus) -> None:  # type: ignore[no-untyped-def]
    figures = score_grouping(corpus)
    assert figures.f1 > figures.f1_naive


def test_the_shipped_predictor_is_scored_against_the_naive_one(corpus) -> None:  # type: ignore[no-untyped-def]
    figures = score_prediction(corpus)
    assert figures.runs > 100
    assert 0.0 <= figures.f1 <= 1.0
    assert 0.0 <= figures.f1_naive <= 1.0


def test_every_failure_met_the_fault_blamed_for_it(corpus) -> None:  # type: ignore[no-untyped-def]
    blamed = [(cause, met) for cause, met in zip(corpus.causes, corpus.met, strict=True) if cause]
    assert len(blamed) > 20
    assert all(cause in met for cause, met in blamed)


def test_windows_nothing_reached_are_counted_apart(corpus) -> None:  # type: ignore[no-untyped-def]
    met_by: dict[tuple[str, str], list[datetime]] = {}
    for run, met in zip(corpus.runs, corpus.met, strict=True):
        for fault in met:
            met_by.setdefault((fault, run.workflow), []).append(run.at)
    for window in corpus.windows:
        reached = [
            at
            for at in met_by.get((window.fault, window.workflow), ())
            if window.start <= at < window.end
        ]
        assert window.observable == bool(reached), window
        ran = any(
            r.workflow == window.workflow and window.start <= r.at < window.end for r in corpus.runs
        )
        if ran and window.kind in ("outage", "nightly"):
            assert window.observable  # a down endpoint is met by every run that calls it
    figures = evaluate_detection(corpus, model_detector())
    observable = sum(1 for w in corpus.windows if w.observable)
    assert figures.windows <= observable <= len(corpus.windows)
    assert figures.all_windows >= figures.windows
    assert figures.all_detected >= figures.detected
