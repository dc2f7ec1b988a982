"""The backtest report: every figure of the issue on the corpus, beside its naive baseline
and its target, PASS or FAIL. Computed on the report seeds only (never the tuning seed)."""

from __future__ import annotations

import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from wfmon.analytics.backtest import (
    DetectionFigures,
    evaluate_detection,
    model_detector,
    naive_detector,
)
from wfmon.analytics.corpus.generator import Corpus, generate
from wfmon.analytics.corpus.settings import CorpusSettings, load_settings
from wfmon.analytics.detectors import DEFAULT_DETECTOR
from wfmon.analytics.forecast import ForecastFigures
from wfmon.analytics.forecast import backtest as forecast_backtest
from wfmon.analytics.scoring import (
    GroupingFigures,
    PredictionFigures,
    score_grouping,
    score_prediction,
)

Progress = Callable[[str], None]


@dataclass(frozen=True)
class Target:
    name: str
    actual: str
    goal: str
    passed: bool | None  # None: a figure reported beside a target, not judged itself
    baseline: str = ""


@dataclass
class BacktestReport:
    seeds: tuple[int, ...]
    version: int
    detection: dict[str, list[DetectionFigures]] = field(default_factory=dict)
    grouping: list[GroupingFigures] = field(default_factory=list)
    forecast: list[ForecastFigures] = field(default_factory=list)
    prediction: list[PredictionFigures] = field(default_factory=list)

    def pooled(self, name: str) -> DetectionFigures:
        parts = self.detection[name]
        kinds: dict[str, tuple[int, int]] = {}
        for part in parts:
            for kind, (found, of) in part.by_kind.items():
                a, b = kinds.get(kind, (0, 0))
                kinds[kind] = (a + found, b + of)
        return DetectionFigures(
            name,
            sum(p.windows for p in parts),
            sum(p.detected for p in parts),
            tuple(d for p in parts for d in p.delays),
            sum(p.faults for p in parts),
            sum(p.faults_detected for p in parts),
            tuple(d for p in parts for d in p.fault_delays),
            sum(p.false_alarms for p in parts),
            sum(p.series_days for p in parts),
            dict(sorted(kinds.items())),
            sum(p.all_windows for p in parts),
            sum(p.all_detected for p in parts),
        )

    def targets(self) -> list[Target]:
        d = self.pooled(DEFAULT_DETECTOR)
        n = self.pooled("naive")
        out = [
            Target(
                "fault windows detected (fault x journey, the fault reached it)",
                f"{d.recall:.1%} ({d.detected}/{d.windows})",
                ">= 90%",
                d.recall >= 0.9,
                f"naive {n.recall:.1%}",
            ),
            Target(
                "  every labelled window (incl. ones no request met)",
                f"{d.all_recall:.1%} ({d.all_detected}/{d.all_windows})",
                "",
                None,
                f"naive {n.all_recall:.1%}",
            ),
            Target(
                "faults detected (by any journey they touch)",
                f"{d.fault_recall:.1%} ({d.faults_detected}/{d.faults})",
                ">= 90%",
                d.fault_recall >= 0.9,
                f"naive {n.fault_recall:.1%}",
            ),
            Target(
                "median detection delay (runs, per window)",
                f"{d.median_delay}",
                "<= 2",
                d.median_delay is not None and d.median_delay <= 2,
                f"naive {n.median_delay}",
            ),
            Target(
                "false-alarm episodes per series per day",
                f"{d.false_alarm_rate:.4f} ({d.false_alarms} in {d.series_days:.0f} series-days)",
                "<= 0.05",
                d.false_alarm_rate <= 0.05,
                f"naive {n.false_alarm_rate:.4f}",
            ),
        ]
        if self.grouping:
            f1 = statistics.mean(g.f1 for g in self.grouping)
            naive = statistics.mean(g.f1_naive for g in self.grouping)
            out.append(
                Target(
                    "incident grouping (pairwise F1)",
                    f"{f1:.3f}",
                    "> naive",
                    f1 > naive,
                    f"naive {naive:.3f}",
                )
            )
        if self.forecast:
            out.extend(self._forecast_targets())
        if self.prediction:
            f1 = statistics.mean(p.f1 for p in self.prediction)
            naive = statistics.mean(p.f1_naive for p in self.prediction)
            logistic = statistics.mean(p.f1_logistic for p in self.prediction)
            precision = statistics.mean(p.precision for p in self.prediction)
            recall = statistics.mean(p.recall for p in self.prediction)
            leads = [p.lead_minutes for p in self.prediction if p.lead_minutes is not None]
            foreseen = sum(p.foreseen for p in self.prediction)
            firsts = sum(p.first_failures for p in self.prediction)
            lead = f"{statistics.median(leads):.0f} min" if leads else "none"
            out.append(
                Target(
                    "failure prediction F1 (next 3 runs)",
                    f"{f1:.3f} (precision {precision:.2f}, recall {recall:.2f}; "
                    f"{foreseen}/{firsts} first failures foreseen, median lead {lead}; "
                    f"logistic {logistic:.3f})",
                    "> naive",
                    f1 > naive,
                    f"naive {naive:.3f} (precision "
                    f"{statistics.mean(p.precision_naive for p in self.prediction):.2f}, recall "
                    f"{statistics.mean(p.recall_naive for p in self.prediction):.2f}, lead 0)",
                )
            )
        return out

    def _forecast_targets(self) -> list[Target]:
        def mean(method: str, figure: str) -> float:
            return statistics.mean(float(getattr(f.methods[method], figure)) for f in self.forecast)

        shipped, naive = mean("shipped", "mase_clean"), mean("naive", "mase_clean")
        others = [m for m in self.forecast[0].methods if m not in ("shipped", "naive")]
        origins = sum(f.origins for f in self.forecast)
        clean = sum(f.clean_origins for f in self.forecast)
        refs = "".join(f"; {m} {mean(m, 'mase_clean'):.3f}" for m in others)
        refs_all = "".join(f"; {m} {mean(m, 'mase_all'):.3f}" for m in others)
        return [
            Target(
                f"forecast MASE 24 h ahead, fault-free days ({clean} of {origins} origins)",
                f"{shipped:.3f} (95% PI coverage {mean('shipped', 'coverage_clean'):.0%})",
                "< 0.9 and < naive",
                shipped < 0.9 and shipped < naive,
                f"naive {naive:.3f}{refs}",
            ),
            Target(
                "  every day (faults no model foresees included)",
                f"{mean('shipped', 'mase_all'):.3f}",
                "< naive",
                mean("shipped", "mase_all") < mean("naive", "mase_all"),
                f"naive {mean('naive', 'mase_all'):.3f}{refs_all}",
            ),
        ]


def forecast_series(
    corpus: Corpus,
) -> list[tuple[list[float], list[float], list[tuple[float, float]]]]:
    """Each journey's successful durations, the series forecast in the backtest, with the
    spans of every fault labelled for it (whether a request met it or not)."""
    out = []
    for workflow in corpus.workflows:
        runs = [r for r in corpus.runs if r.workflow == workflow and r.ok and r.duration_ms]
        spans = [
            (w.start.timestamp(), w.end.timestamp())
            for w in corpus.windows
            if w.workflow == workflow
        ]
        out.append(
            (
                [r.at.timestamp() for r in runs],
                [float(r.duration_ms or 0.0) for r in runs],
                spans,
            )
        )
    return out


def run_backtest(
    seeds: Sequence[int] | None = None,
    *,
    settings: CorpusSettings | None = None,
    detectors: Sequence[str] = (DEFAULT_DETECTOR,),
    forecasts: bool = True,
    progress: Progress | None = None,
) -> BacktestReport:
    settings = settings or load_settings()
    chosen = tuple(seeds) if seeds else settings.report_seeds
    report = BacktestReport(chosen, settings.version)
    say = progress or (lambda _message: None)
    for seed in chosen:
        say(f"seed {seed}: generating the corpus")
        corpus = generate(seed, settings)
        for name in detectors:
            say(f"seed {seed}: detector {name}")
            figures = evaluate_detection(corpus, model_detector(name), name)
            report.detection.setdefault(name, []).append(figures)
        report.detection.setdefault("naive", []).append(
            evaluate_detection(corpus, naive_detector(), "naive")
        )
        say(f"seed {seed}: incidents")
        report.grouping.append(score_grouping(corpus))
        say(f"seed {seed}: failure prediction")
        report.prediction.append(score_prediction(corpus))
        if forecasts:
            say(f"seed {seed}: forecasts (rolling origin)")
            report.forecast.append(forecast_backtest(forecast_series(corpus)))
    return report
