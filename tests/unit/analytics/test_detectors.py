"""Streaming detectors on synthetic series: shifts caught, outliers ignored, seasons learned,
scores causal, state resumable."""

from __future__ import annotations

import json
import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from wfmon.analytics.anomaly import DEFAULT_THRESHOLD, Episode, advance
from wfmon.analytics.detectors import DETECTORS, FailureRateDetector, from_state, make_detector

STEP_S = 300.0


def _noise(n: int, seed: int = 1, level: float = 200.0) -> list[float]:
    rng = random.Random(seed)
    return [level * rng.lognormvariate(0.0, 0.1) for _ in range(n)]


def _episodes(scores: list[float], threshold: float = DEFAULT_THRESHOLD) -> int:
    episode: Episode | None = None
    opened = 0
    for i, s in enumerate(scores):
        after = advance(episode, float(i), s, 0.0, 0.0, 0.0, threshold)
        if after is not None and after.is_open and (episode is None or not episode.is_open):
            opened += 1
        episode = after if after is not None and after.is_open else None
    return opened


@pytest.mark.parametrize(
    ("factor", "within"),
    [
        (3.0, 2),  # a step that triples: caught on the second point (never on one alone)
        (2.0, 2),  # doubling, with 10 % noise: as fast
    ],
)
def test_it_catches_a_level_shift_within_two_points(factor: float, within: int) -> None:
    detector = make_detector("default")
    values = _noise(200)
    for i, x in enumerate(values):
        detector.update(i * STEP_S, x)
    shifted = [x * factor for x in _noise(10, seed=2)]
    scores = [detector.update((200 + i) * STEP_S, x).score for i, x in enumerate(shifted)]
    first = next(i for i, s in enumerate(scores) if s >= DEFAULT_THRESHOLD)
    assert first + 1 <= within


@pytest.mark.parametrize("name", ["default", "robust-cusum"])
def test_a_single_outlier_does_not_make_an_episode(name: str) -> None:
    detector = make_detector(name)
    values = _noise(300)
    values[200] *= 20  # one request that stalled
    scores = [detector.update(i * STEP_S, x).score for i, x in enumerate(values)]
    assert _episodes(scores) == 0
    assert scores[200] > 0.2  # noticed, ranked high, but below the threshold alone


def test_a_daily_peak_is_learned_and_not_flagged_after_a_week() -> None:
    detector = make_detector("default")
    rng = random.Random(3)
    scores = []
    for i in range(14 * 288):  # two weeks every 5 minutes
        t = i * STEP_S
        hour = (t / 3600.0) % 24
        peak = 1.0 + 1.0 * math.exp(-0.5 * ((hour - 15.0) / 2.0) ** 2)  # twice as slow at 15:00
        scores.append(detector.update(t, 100.0 * peak * rng.lognormvariate(0, 0.3)).score)
    assert _episodes(scores[7 * 288 :]) == 0


def test_failures_score_by_surprise_given_the_journeys_history() -> None:
    steady = FailureRateDetector()
    for i in range(500):
        steady.update(float(i), 1.0)
    assert steady.update(500.0, 0.0).score >= DEFAULT_THRESHOLD  # a steady journey failing
    flaky = FailureRateDetector()
    rng = random.Random(4)
    for i in range(500):
        flaky.update(float(i), 0.0 if rng.random() < 0.05 else 1.0)
    flaky.window.clear()
    assert flaky.update(500.0, 0.0).score < DEFAULT_THRESHOLD  # ordinary for this one


@settings(max_examples=40, deadline=None)
@given(
    prefix=st.lists(st.floats(0.1, 5000.0), min_size=20, max_size=60),
    tail_a=st.lists(st.floats(0.1, 5000.0), min_size=1, max_size=20),
    tail_b=st.lists(st.floats(0.1, 5000.0), min_size=1, max_size=20),
    name=st.sampled_from([*DETECTORS]),
)
def test_a_points_score_never_depends_on_later_points(
    prefix: list[float], tail_a: list[float], tail_b: list[float], name: str
) -> None:
    def scores(values: list[float]) -> list[float]:
        detector = make_detector(name)
        return [detector.update(i * 60.0, x).score for i, x in enumerate(values)]

    assert scores(prefix + tail_a)[: len(prefix)] == scores(prefix + tail_b)[: len(prefix)]


@pytest.mark.parametrize("name", [*DETECTORS, "success"])
def test_state_round_trips_through_json_and_resumes_exactly(name: str) -> None:
    metric = "success" if name == "success" else "duration"
    detector = make_detector("default" if name == "success" else name, metric)
    rng = random.Random(5)
    values = [
        float(rng.random() > 0.1) if metric == "success" else 50 * rng.lognormvariate(0, 0.3)
        for _ in range(3000)
    ]
    for i, x in enumerate(values[:2000]):
        detector.update(i * STEP_S, x)
    resumed = from_state(json.loads(json.dumps(detector.state())))
    for i, x in enumerate(values[2000:], start=2000):
        assert resumed.update(i * STEP_S, x) == detector.update(i * STEP_S, x)


@pytest.mark.parametrize("name", [*DETECTORS])
def test_scores_stay_in_the_unit_interval_for_any_data(name: str) -> None:
    detector = make_detector(name, generic=True)
    rng = random.Random(6)
    for i in range(2000):
        x = rng.choice([-1e6, -3.0, 0.0, 1e-9, 7.0, 1e9]) if i % 97 == 0 else rng.gauss(10, 2)
        score = detector.update(float(i), x).score
        assert 0.0 <= score <= 1.0


def test_a_failure_episode_ends_a_few_runs_after_the_recovery() -> None:
    """Pass: a steady journey's one failure opens an episode that is over by the fourth
    success after it, not when the failure leaves the 10-run window (13 runs later)."""
    detector = FailureRateDetector()
    for i in range(300):
        detector.update(i * STEP_S, 1.0)
    scores = [detector.update(300 * STEP_S, 0.0).score]
    scores += [detector.update((301 + i) * STEP_S, 1.0).score for i in range(12)]
    assert scores[0] >= DEFAULT_THRESHOLD
    episode: Episode | None = None
    ended = None
    for i, s in enumerate(scores):
        episode = advance(episode, float(i), s, 0.0, 0.0, 0.0)
        if episode is not None and not episode.is_open:
            ended = i
            break
    assert ended is not None
    assert ended <= 4
