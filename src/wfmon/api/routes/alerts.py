"""Alerts and silences: list, acknowledge, resolve, the audit trail; silences CRUD.

Changes go through alerting's `AlertOperator` (the CLI's code path), are attributed to the
caller (`user:alice`, `token:grafana`) in the audit trail, and published as
`alert.changed` for live views.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Body, Depends, Path, Query
from fastapi.responses import Response

from wfmon.alerts.operator import ActionResult
from wfmon.api.alert_schemas import (
    AlertActionIn,
    AlertActionOut,
    AlertEventListOut,
    AlertEventOut,
    AlertListOut,
    AlertOut,
    AlertStateName,
    SilenceIn,
    SilenceListOut,
    SilenceOut,
)
from wfmon.api.auth.deps import Principal, Writer
from wfmon.api.params import NAME_PATTERN, invalid
from wfmon.api.problems import PROBLEM_RESPONSES, ApiProblem
from wfmon.api.services import ApiServices
from wfmon.domain.alert import AlertState
from wfmon.events import Event

MAX_ID = 2**63 - 1
AlertId = Annotated[int, Path(ge=1, le=MAX_ID)]
SilenceId = Annotated[int, Path(ge=1, le=2**31 - 1)]


def router(s: ApiServices) -> APIRouter:
    r = APIRouter(tags=["alerts"], responses=PROBLEM_RESPONSES)
    read = [Depends(s.auth.require("read"))]

    @r.get(
        "/alerts", response_model=AlertListOut, dependencies=read, summary="Alerts, newest first"
    )
    async def list_alerts(
        state: Annotated[
            list[AlertStateName] | None, Query(description="Repeat for several")
        ] = None,
        workflow: Annotated[str | None, Query(pattern=NAME_PATTERN)] = None,
        limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    ) -> AlertListOut:
        states = [AlertState(v) for v in state] if state else None
        found = await s.alerts.list(states=states, workflow=workflow, limit=limit)
        return AlertListOut(items=[AlertOut.of(a) for a in found])

    @r.get("/alerts/{alert_id}", response_model=AlertOut, dependencies=read, summary="One alert")
    async def get_alert(alert_id: AlertId) -> AlertOut:
        alert = await s.alerts.get(alert_id)
        if alert is None:
            raise ApiProblem(404, f"no alert {alert_id}", kind="not-found")
        return AlertOut.of(alert)

    @r.get(
        "/alerts/{alert_id}/events",
        response_model=AlertEventListOut,
        dependencies=read,
        summary="The alert's audit trail, oldest first",
    )
    async def alert_events(alert_id: AlertId) -> AlertEventListOut:
        if await s.alerts.get(alert_id) is None:
            raise ApiProblem(404, f"no alert {alert_id}", kind="not-found")
        events = await s.alerts.history(alert_id=alert_id)
        return AlertEventListOut(items=[AlertEventOut.of(e) for e in events])

    async def act(alert_id: int, action: str, who: Principal, note: str | None) -> AlertActionOut:
        operator = s.operator()
        if action == "acknowledge":
            result = await operator.acknowledge(alert_id, actor=who.actor, note=note)
        else:
            result = await operator.resolve(alert_id, actor=who.actor, note=note)
        if result.alert is None:
            if result.reason == "no_such_alert":
                raise ApiProblem(404, f"no alert {alert_id}", kind="not-found")
            raise ApiProblem(409, result.reason.replace("_", " "), kind="alert-conflict")
        if result.changed:
            await s.ctx.bus.publish(_changed(result, action, who))
        return AlertActionOut(
            alert=AlertOut.of(result.alert),
            changed=result.changed,
            reason=result.reason,
            notifications=result.notifications,
        )

    @r.post(
        "/alerts/{alert_id}/ack",
        response_model=AlertActionOut,
        summary="Acknowledge: someone is on it (reminders stop)",
    )
    async def acknowledge(
        alert_id: AlertId,
        who: Writer,
        body: Annotated[AlertActionIn | None, Body()] = None,
    ) -> AlertActionOut:
        return await act(alert_id, "acknowledge", who, body.note if body else None)

    @r.post(
        "/alerts/{alert_id}/resolve",
        response_model=AlertActionOut,
        summary="Resolve by hand (it reopens if its rule still fails)",
    )
    async def resolve(
        alert_id: AlertId,
        who: Writer,
        body: Annotated[AlertActionIn | None, Body()] = None,
    ) -> AlertActionOut:
        return await act(alert_id, "resolve", who, body.note if body else None)

    @r.get("/silences", response_model=SilenceListOut, dependencies=read, summary="Silences")
    async def list_silences(
        include_expired: Annotated[bool, Query(description="Also ended ones")] = False,
    ) -> SilenceListOut:
        found = await s.silences.list(include_expired=include_expired)
        return SilenceListOut(items=[SilenceOut.of(x) for x in found])

    @r.get(
        "/silences/{silence_id}", response_model=SilenceOut, dependencies=read, summary="A silence"
    )
    async def get_silence(silence_id: SilenceId) -> SilenceOut:
        found = await s.silences.get(silence_id)
        if found is None:
            raise ApiProblem(404, f"no silence {silence_id}", kind="not-found")
        return SilenceOut.of(found)

    @r.post(
        "/silences",
        status_code=201,
        response_model=SilenceOut,
        summary="Create a silence: holds notifications, never recording",
    )
    async def create_silence(body: SilenceIn, who: Writer) -> SilenceOut:
        try:
            created = await s.operator().add_silence(
                author=who.actor,
                comment=body.comment,
                source="api",
                workflows=body.workflows,
                tags=body.tags,
                locations=body.locations,
                starts_at=body.starts_at,
                ends_at=body.ends_at,
                cron=body.cron,
                duration_s=body.duration_s,
                timezone=body.timezone,
                name=body.name,
            )
        except ValueError as error:
            invalid("body", str(error))
        return SilenceOut.of(created)

    @r.delete(
        "/silences/{silence_id}",
        status_code=204,
        summary="End a silence now (held notices go out on the daemon's next check)",
    )
    async def expire_silence(silence_id: SilenceId, who: Writer) -> Response:
        if not await s.operator().expire_silence(silence_id):
            raise ApiProblem(404, f"no live silence {silence_id}", kind="not-found")
        return Response(status_code=204)

    return r


def _changed(result: ActionResult, action: str, who: Principal) -> Event:
    alert = result.alert
    assert alert is not None
    return Event(
        "alert.changed",
        {
            "alert_id": alert.id,
            "kind": "acknowledged" if action == "acknowledge" else "resolved",
            "to": alert.state.value,
            "reason": result.reason,
            "actor": who.actor,
            "at": alert.changed_at.isoformat(),
            "notified": result.notifications > 0,
        },
    )
