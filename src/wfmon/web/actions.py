"""Form posts for the pages without JavaScript: acknowledge, resolve, run now.

With scripts on, the pages call the JSON API (`/api/v1/alerts/{id}/ack` ...) with the
`X-CSRF-Token` header instead and update in place; these routes are the same actions as
plain HTML forms, answered with a redirect back to the page (post/redirect/get).

Each is guarded by the API's `require("write")`, which for a cookie session checks the
form's `csrf_token` field against the session's token (`api/auth/deps.py`): a page of
another site cannot post here on a logged-in person's behalf.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Form, Path
from fastapi.responses import RedirectResponse, Response

from wfmon.alerts.operator import ActionResult
from wfmon.api.auth.deps import Principal, Writer
from wfmon.api.runs import RunRefused
from wfmon.api.services import ApiServices
from wfmon.events import Event
from wfmon.web.auth import Viewer
from wfmon.web.render import Renderer, path_part

MAX_ID = 2**63 - 1
Note = Annotated[str, Form(max_length=2000)]
Back = Annotated[str, Form(max_length=2000)]


def back_to(target: str, default: str) -> str:
    """Only a path of this site (never `//other.example`)."""
    if target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


def changed_event(result: ActionResult, action: str, who: Principal) -> Event:
    """`alert.changed`, as the JSON API publishes it, for the other open pages."""
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


def add_routes(r: APIRouter, s: ApiServices, render: Renderer) -> None:
    """Add the form routes to the dashboard's router."""

    def chrome(who: Principal) -> dict[str, Any]:
        """What the page layout needs besides the page's own values."""
        return {"viewer": Viewer.of(who), "active": "", "last_event_id": s.hub.last_id}

    async def act(alert_id: int, action: str, who: Principal, note: str, back: str) -> Response:
        operator = s.operator()
        text = note.strip() or None
        if action == "acknowledge":
            result = await operator.acknowledge(alert_id, actor=who.actor, note=text)
        else:
            result = await operator.resolve(alert_id, actor=who.actor, note=text)
        if result.alert is None:
            return render.page(
                "error.html",
                404,
                title="No such alert",
                message=f"There is no alert {alert_id}.",
                back="/alerts",
                **chrome(who),
            )
        if result.changed:
            await s.ctx.bus.publish(changed_event(result, action, who))
        return RedirectResponse(back_to(back, f"/alerts#alert-{alert_id}"), status_code=303)

    @r.post("/alerts/{alert_id}/ack")
    async def acknowledge(
        alert_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        who: Writer,
        note: Note = "",
        back: Back = "",
    ) -> Response:
        return await act(alert_id, "acknowledge", who, note, back)

    @r.post("/alerts/{alert_id}/resolve")
    async def resolve(
        alert_id: Annotated[int, Path(ge=1, le=MAX_ID)],
        who: Writer,
        note: Note = "",
        back: Back = "",
    ) -> Response:
        return await act(alert_id, "resolve", who, note, back)

    @r.post("/workflows/{name:path}/run")
    async def run_now(name: str, who: Writer) -> Response:
        try:
            started = await s.runs.start(name)
        except RunRefused as refused:
            return render.page(
                "error.html",
                refused.status,
                title="The run did not start",
                message=refused.detail,
                back=f"/workflows/{path_part(name)}",
                **chrome(who),
            )
        return RedirectResponse(f"/executions/{started.execution_id}", status_code=303)
