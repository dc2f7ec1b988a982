"""`wfmon analyze score-series`: score any `timestamp,value` CSV with the product's own
detector, causally and in one pass, so labelled data from elsewhere can be scored too.

The output has the input's rows in the input's order with a third column `anomaly_score` in
[0, 1]. Timestamps are ISO 8601 or epoch seconds; a missing or unparseable value scores 0
and is not learned from. The data's units are unknown, so detectors run in their generic
form (either direction, scaled to the first value).
"""

from __future__ import annotations

import csv
import math
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from wfmon.analytics.detectors import DEFAULT_DETECTOR, make_detector

COLUMN = "anomaly_score"


def _seconds(text: str, previous: float) -> float:
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    try:
        when = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return previous  # keep the order; the detector only needs non-decreasing time
    if when.tzinfo is None:  # naive: read as UTC, the only choice that needs no guess
        return (when - datetime(1970, 1, 1)).total_seconds()
    return when.timestamp()


def score_file(source: Path, target: Path, detector: str = DEFAULT_DETECTOR) -> int:
    """Score one CSV; returns the number of data rows."""
    model = make_detector(detector, generic=True)
    update = model.update
    rows = 0
    target.parent.mkdir(parents=True, exist_ok=True)
    with (
        source.open(newline="", encoding="utf-8") as fin,
        target.open("w", newline="", encoding="utf-8") as fout,
    ):
        reader = csv.reader(fin)
        writer = csv.writer(fout)
        header = next(reader, None)
        if header is None:
            return 0
        writer.writerow([*header, COLUMN])
        t = 0.0
        for row in reader:
            if len(row) < 2:
                writer.writerow([*row, "0"])
                rows += 1
                continue
            t = _seconds(row[0], t)
            try:
                x = float(row[1])
            except ValueError:
                x = math.nan
            if math.isfinite(x):
                score = update(t, x)[0]
                writer.writerow([*row, f"{score:.6f}"])
            else:
                writer.writerow([*row, "0"])
            rows += 1
    return rows


def csv_files(root: Path) -> Iterator[Path]:
    """The CSV files under a directory, in a stable order."""
    yield from sorted(p for p in root.rglob("*.csv") if p.is_file())


def score_path(
    source: Path, target: Path, detector: str = DEFAULT_DETECTOR
) -> list[tuple[Path, int]]:
    """A file to a file, or a directory mirrored into a directory; (output, rows) each."""
    if source.is_dir():
        return [
            (
                target / path.relative_to(source),
                score_file(path, target / path.relative_to(source), detector),
            )
            for path in csv_files(source)
        ]
    return [(target, score_file(source, target, detector))]
