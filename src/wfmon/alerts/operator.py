"""What a person does to alerts and silences: the one implementation behind the CLI and
the API. It reads and writes the database only, so it works beside a running daemon
(which notices the changes on its next pass)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from wfmon.alerts import flapping, notices
from wfmon.alerts.changes import Conflict
from wfmon.alerts.facts import subject_key
from wfmon.alerts.grouping import Batches
from wfmon.alerts.pipeline import plan_action
from wfmon.alerts.setup import AlertingConfig
from wfmon.clock import Clock
from wfmon.domain.alert import Alert, Silence
from wfmon.scheduler.cron import validate_cron, validate_timezone
from wfmon.storage import AlertRepository, Database, OutboxRepository, SilenceRepository

RETRIES = 5


@dataclass(frozen=True)
class ActionResult:
    alert: Alert | None
    changed: bool
    reason: str  # acknowledged, resolved_by_hand, already_resolved, no_such_alert, ...
    notifications: int = 0


class AlertOperator:
    def __init__(self, db: Database, clock: Clock, config: AlertingConfig | None = None) -> None:
        self._clock = clock
        self._config = config or AlertingConfig()
        self._alerts = AlertRepository(db)
        self._silences = SilenceRepository(db)
        self._outbox = OutboxRepository(db)

    async def acknowledge(
        self, alert_id: int, *, actor: str, note: str | None = None
    ) -> ActionResult:
        return await self._act(alert_id, "acknowledge", actor, note)

    async def resolve(self, alert_id: int, *, actor: str, note: str | None = None) -> ActionResult:
        return await self._act(alert_id, "resolve", actor, note)

    async def _act(self, alert_id: int, action: str, actor: str, note: str | None) -> ActionResult:
        for _ in range(RETRIES):
            now = self._clock.now()
            alert = await self._alerts.get(alert_id)
            if alert is None:
                return ActionResult(None, False, "no_such_alert")
            flap_key = subject_key(flapping.RULE, alert.workflow, alert.location)
            flap = (await self._alerts.latest([flap_key])).get(flap_key)
            is_flapping = flap is not None and flap.is_open and alert.rule != flapping.RULE
            held_by = notices.mute(
                await self._silences.list(),
                alert.workflow,
                alert.location,
                alert.tags,
                now,
                flapping=is_flapping,
            )
            followers = (await self._alerts.followers([alert.id])).get(alert.id, ())
            window = self._config.spec.grouping.window
            batches = Batches.seeded(window, await self._outbox.open_groups(now))
            change, step = plan_action(
                self._config.policy,
                alert,
                action,
                actor=actor,
                note=note,
                held_by=held_by,
                followers=followers,
                batches=batches,
                now=now,
            )
            if change is None:
                return ActionResult(alert, False, step.reason)
            try:
                await self._alerts.apply([change])
            except Conflict:
                continue  # the daemon changed it meanwhile: look again
            return ActionResult(
                await self._alerts.get(alert_id), True, step.reason, len(change.outbox)
            )
        return ActionResult(None, False, "kept_changing")

    async def add_silence(
        self,
        *,
        author: str,
        comment: str,
        source: str,
        workflows: Sequence[str] = (),
        tags: Sequence[str] = (),
        locations: Sequence[str] = (),
        starts_at: datetime | None = None,
        ends_at: datetime | None = None,
        cron: str | None = None,
        duration_s: float | None = None,
        timezone: str = "UTC",
        name: str | None = None,
    ) -> Silence:
        """A new silence; ValueError (with a hint) for an impossible one."""
        if cron is not None:
            validate_cron(cron)
            validate_timezone(timezone)
            if not duration_s or duration_s <= 0:
                raise ValueError("a recurring silence needs a duration above 0")
        elif starts_at is None or ends_at is None or ends_at <= starts_at:
            raise ValueError("a silence needs an end after its start, or a cron and a duration")
        if not comment.strip():
            raise ValueError("say why: a silence needs a comment")
        return await self._silences.add(
            source=source,
            author=author,
            comment=comment,
            now=self._clock.now(),
            name=name,
            workflows=workflows,
            tags=tags,
            locations=locations,
            starts_at=starts_at,
            ends_at=ends_at,
            cron=cron,
            duration_s=duration_s,
            timezone=timezone,
        )

    async def expire_silence(self, silence_id: int) -> bool:
        """End a silence now. Held notices go out on the daemon's next periodic check."""
        return await self._silences.expire(silence_id, self._clock.now())
