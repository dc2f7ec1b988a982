"""The analytics routes on a real server: predictions from the recorded runs, anomalies
and incidents, behind the read scope."""

from __future__ import annotations

from datetime import timedelta

from api_support import Harness, execution, now_utc
from wfmon.domain.run import ExecutionStatus


async def test_predictions_rank_the_workflow_whose_failures_come_in_runs(api: Harness) -> None:
    now = now_utc()
    results = []
    # checkout: every failure is followed by two more, and the latest run failed.
    for i in range(60):
        failing = i % 10 in (0, 1, 2)
        results.append(
            execution(
                now - timedelta(minutes=60 - i),
                status=ExecutionStatus.FAILED if failing else ExecutionStatus.SUCCEEDED,
            )
        )
    results.append(execution(now, status=ExecutionStatus.FAILED))
    # private: never fails.
    results += [execution(now - timedelta(minutes=i), workflow="private") for i in range(30)]
    await api.record(results)

    answer = await api.reader().get("/api/v1/predictions")
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert [p["workflow"] for p in body] == ["checkout", "private"]
    checkout, private = body
    assert checkout["at_risk"] is True
    assert checkout["probability"] > 0.6
    assert checkout["reason"].startswith("the last run failed at step home")
    assert checkout["horizon_runs"] == 3
    assert private["at_risk"] is False
    assert private["probability"] < 0.1
    assert private["reason"] == "the last run passed within its limits"

    only = (await api.reader().get("/api/v1/predictions", params={"workflow": "private"})).json()
    assert [p["workflow"] for p in only] == ["private"]


async def test_analytics_routes_answer_lists_and_need_a_token(api: Harness) -> None:
    reader = api.reader()
    for path in ("/api/v1/anomalies", "/api/v1/incidents", "/api/v1/predictions"):
        answer = await reader.get(path)
        assert (answer.status_code, answer.json()) == (200, [])
        anonymous = await api.client().get(path)
        assert anonymous.status_code == 401
        assert anonymous.headers["content-type"] == "application/problem+json"
    bad = await reader.get("/api/v1/predictions", params={"history": "soon"})
    assert bad.status_code == 422
    assert bad.headers["content-type"] == "application/problem+json"
