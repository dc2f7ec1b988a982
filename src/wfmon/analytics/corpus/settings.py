"""The corpus' versioned settings (`default.yaml` beside this file)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from importlib import resources
from pathlib import Path
from typing import Any

import yaml


@dataclass(frozen=True)
class LoadSettings:
    peak: float = 0.6
    peak_hour_utc: float = 15.0
    peak_width_h: float = 3.0
    weekend_factor: float = 0.85


@dataclass(frozen=True)
class NoiseSettings:
    request_error_rate: float = 0.0005
    outlier_rate: float = 0.003
    outlier_factor: tuple[float, float] = (3.0, 8.0)
    overhead_ms: float = 1.5
    start_jitter_s: float = 2.0


@dataclass(frozen=True)
class CorpusSettings:
    version: int
    start: datetime
    days: float
    warmup_days: float
    tuning_seed: int
    report_seeds: tuple[int, ...]
    load: LoadSettings
    noise: NoiseSettings
    faults: dict[str, dict[str, Any]]

    @property
    def end(self) -> datetime:
        return self.start + timedelta(days=self.days)

    @property
    def scored_from(self) -> datetime:
        return self.start + timedelta(days=self.warmup_days)

    def with_days(self, days: float, warmup_days: float | None = None) -> CorpusSettings:
        """A shorter (or longer) corpus with the same faults per week (tests use 10 days)."""
        scale = days / self.days
        faults = {
            kind: {**spec, "count": max(1, round(int(spec["count"]) * scale))}
            for kind, spec in self.faults.items()
        }
        return CorpusSettings(
            self.version,
            self.start,
            days,
            self.warmup_days if warmup_days is None else warmup_days,
            self.tuning_seed,
            self.report_seeds,
            self.load,
            self.noise,
            faults,
        )


def load_settings(path: Path | None = None) -> CorpusSettings:
    """The settings in `path`, or the packaged default."""
    if path is None:
        text = resources.files("wfmon.analytics.corpus").joinpath("default.yaml").read_text()
    else:
        text = path.read_text(encoding="utf-8")
    doc = yaml.safe_load(text)
    noise = dict(doc.get("noise") or {})
    if "outlier_factor" in noise:
        noise["outlier_factor"] = tuple(float(v) for v in noise["outlier_factor"])
    return CorpusSettings(
        version=int(doc["version"]),
        start=datetime.fromisoformat(str(doc["start"]).replace("Z", "+00:00")),
        days=float(doc["days"]),
        warmup_days=float(doc["warmup_days"]),
        tuning_seed=int(doc["tuning_seed"]),
        report_seeds=tuple(int(s) for s in doc["report_seeds"]),
        load=LoadSettings(**(doc.get("load") or {})),
        noise=NoiseSettings(**noise),
        faults={str(k): dict(v) for k, v in (doc.get("faults") or {}).items()},
    )
