"""The public status page's data: only workflows marked `public: true`, and only their
name, description, state and uptime (no errors, URLs or definitions)."""

from __future__ import annotations

from datetime import timedelta

from wfmon.api.schemas import OverviewOut, PublicStatusOut, PublicWorkflowOut
from wfmon.api.workflow_views import is_public
from wfmon.storage import WorkflowRepository
from wfmon.storage.rollups import RollupRepository, floor_to


async def public_status(
    overview: OverviewOut, workflows: WorkflowRepository, rollups: RollupRepository
) -> PublicStatusOut:
    now = overview.generated_at
    states = {wf.name: wf for wf in overview.workflows}
    month = floor_to(now, "hour") - timedelta(days=30)
    shown = []
    for record in await workflows.list():
        if not is_public(record):
            continue
        state = states.get(record.name)
        [(runs, ok)] = await rollups.counts(record.name, [month])
        description = record.definition.get("description")
        shown.append(
            PublicWorkflowOut(
                name=record.name,
                description=description if isinstance(description, str) else "",
                state=state.state if state is not None else "no_data",
                last_run_at=state.last_run_at if state is not None else None,
                uptime_24h=state.success_rate_24h if state is not None else None,
                uptime_30d=ok / runs if runs else None,
            )
        )
    return PublicStatusOut(generated_at=now, workflows=shown)
