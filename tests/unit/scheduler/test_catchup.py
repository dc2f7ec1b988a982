"""Catch-up after downtime: which due slots run, which are recorded missed, and why."""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from wfmon.domain.workflow import Schedule
from wfmon.scheduler.catchup import (
    DEFAULT_CATCH_UP,
    NOTHING_DUE,
    RAN_ALL_DUE,
    RAN_LATEST,
    SKIPPED_LATE,
    CatchUpPolicy,
    parse_catch_up,
    plan_catch_up,
)
from wfmon.scheduler.cron import due_slots


def at(minute: int) -> datetime:
    return datetime(2026, 5, 4, 10, minute, tzinfo=UTC)


# Down from just after 10:00 to 10:07 with a `*/1` schedule: 7 slots came due.
DUE = due_slots(Schedule(cron="*/1 * * * *"), at(0), at(7))


def test_seven_minutes_down_gives_seven_due_slots() -> None:
    assert [at(m) for m in range(1, 8)] == DUE


@pytest.mark.parametrize(
    ("policy", "now", "run", "missed", "reason"),
    [
        # one (the default): the latest runs, the 6 before are missed
        ("one", None, [7], [1, 2, 3, 4, 5, 6], RAN_LATEST),
        # all(max 3): the 3 most recent run, the 4 before are missed
        ("all(max 3)", None, [5, 6, 7], [1, 2, 3, 4], RAN_LATEST),
        # all(max 10): room for all 7
        ("all(max 10)", None, [1, 2, 3, 4, 5, 6, 7], [], RAN_ALL_DUE),
        # all: every due slot runs, oldest first
        ("all", None, [1, 2, 3, 4, 5, 6, 7], [], RAN_ALL_DUE),
        # none: everything that came due while down is missed
        ("none", None, [], [1, 2, 3, 4, 5, 6, 7], SKIPPED_LATE),
        # none, told the time: 10:07 is on time (within the grace), so it still runs
        ("none", at(7) + timedelta(seconds=2), [7], [1, 2, 3, 4, 5, 6], SKIPPED_LATE),
        # none, but even 10:07 is over a minute late: nothing runs
        ("none", at(9), [], [1, 2, 3, 4, 5, 6, 7], SKIPPED_LATE),
    ],
)
def test_plan_catch_up(
    policy: str, now: datetime | None, run: list[int], missed: list[int], reason: str
) -> None:
    plan = plan_catch_up(DUE, parse_catch_up(policy), now=now)
    assert plan.run == tuple(at(m) for m in run)
    assert plan.missed == tuple(at(m) for m in missed)
    assert plan.reason == reason


@pytest.mark.parametrize(
    ("policy", "now", "run", "reason"),
    [
        # the usual case, one slot on time: it runs, whatever the policy
        ("one", None, [7], RAN_ALL_DUE),
        ("all(max 3)", None, [7], RAN_ALL_DUE),
        # none runs an on-time slot when told the time...
        ("none", at(7), [7], RAN_ALL_DUE),
        # ...but without the time, it cannot tell it from a slot missed while down
        ("none", None, [], SKIPPED_LATE),
    ],
)
def test_a_single_on_time_slot(
    policy: str, now: datetime | None, run: list[int], reason: str
) -> None:
    plan = plan_catch_up([at(7)], parse_catch_up(policy), now=now)
    assert plan.run == tuple(at(m) for m in run)
    assert plan.reason == reason


def test_nothing_due_plans_nothing() -> None:
    assert plan_catch_up([], DEFAULT_CATCH_UP) == plan_catch_up([], parse_catch_up("all"))
    assert plan_catch_up([], DEFAULT_CATCH_UP).reason == NOTHING_DUE


def test_it_sorts_unsorted_input() -> None:
    plan = plan_catch_up([at(3), at(1), at(2)], parse_catch_up("all(max 2)"))
    assert plan.run == (at(2), at(3))
    assert plan.missed == (at(1),)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("one", CatchUpPolicy("one")),  # the default
        ("none", CatchUpPolicy("none")),
        ("all", CatchUpPolicy("all")),  # no limit
        ("all(max 5)", CatchUpPolicy("all", 5)),  # the documented form
        ("  ALL ( max 5 ) ", CatchUpPolicy("all", 5)),  # case and spaces are free
        ("all(max=5)", CatchUpPolicy("all", 5)),  # a common slip, accepted
        (" One\n", CatchUpPolicy("one")),  # as YAML may hand it over
    ],
)
def test_parse_catch_up(text: str, expected: CatchUpPolicy) -> None:
    assert parse_catch_up(text) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "unknown catch-up policy"),  # empty
        ("some", "unknown catch-up policy"),  # not a policy
        ("all(5)", "unknown catch-up policy"),  # missing "max"
        ("all(max -1)", "unknown catch-up policy"),  # negative
        ("all(max 0)", "use 'none'"),  # runs nothing: that is `none`
        ("one(max 2)", "unknown catch-up policy"),  # max goes with all only
    ],
)
def test_parse_catch_up_rejects_with_the_forms(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        parse_catch_up(text)


@pytest.mark.parametrize("text", ["one", "none", "all", "all(max 5)"])
def test_policy_text_round_trips(text: str) -> None:
    assert str(parse_catch_up(text)) == text


@pytest.mark.parametrize(
    ("mode", "max_runs"),
    [("one", 2), ("none", 1), ("all", 0), ("some", None)],  # max only with all, >= 1
)
def test_policy_refuses_nonsense(mode: str, max_runs: int | None) -> None:
    with pytest.raises(ValueError, match=r"max_runs|unknown"):
        CatchUpPolicy(mode, max_runs)  # type: ignore[arg-type]  # "some" is the point


policies = st.one_of(
    st.sampled_from([CatchUpPolicy("one"), CatchUpPolicy("none"), CatchUpPolicy("all")]),
    st.integers(min_value=1, max_value=20).map(lambda n: CatchUpPolicy("all", n)),
)
instants = st.datetimes(
    min_value=datetime(2020, 1, 1), max_value=datetime(2030, 1, 1), timezones=st.just(UTC)
)


@given(
    due=st.lists(instants, max_size=40),
    policy=policies,
    now=st.none() | instants,
    grace_s=st.floats(min_value=0, max_value=3600),
)
def test_every_due_slot_is_either_run_or_missed(
    due: list[datetime], policy: CatchUpPolicy, now: datetime | None, grace_s: float
) -> None:
    plan = plan_catch_up(due, policy, now=now, grace_s=grace_s)
    # Never silently dropped, never invented: run + missed is due, as a multiset.
    assert Counter(plan.run) + Counter(plan.missed) == Counter(due)
    assert sorted(plan.run + plan.missed) == sorted(due)
    # Both oldest first, and what runs is never older than what is missed.
    assert list(plan.run) == sorted(plan.run)
    assert list(plan.missed) == sorted(plan.missed)
    if plan.run and plan.missed:
        assert plan.missed[-1] <= plan.run[0]
    limit = policy.run_limit
    if policy.mode == "none":
        assert len(plan.run) <= 1
        if now is None:
            assert plan.run == ()
    elif limit is not None:
        assert len(plan.run) == min(limit, len(due))
    else:
        assert plan.missed == ()
