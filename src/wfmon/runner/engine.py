"""Runs one workflow: steps in order with a shared context, deadlines, retries, masking.

Outcome classes: `succeeded`; `failed` (an assertion did not hold); `error` (connection, DNS,
TLS, a step that raised); `timeout` (a step's or the workflow's deadline passed). Steps after
a failure are skipped, except `always_run` ones (cleanup), which still run.
"""

from __future__ import annotations

import asyncio
import itertools
import math
import os
import ssl
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import aiohttp
from tenacity import AsyncRetrying, retry_if_result, stop_after_attempt, wait_exponential_jitter

from wfmon.clock import Clock
from wfmon.config.base import StepBase
from wfmon.config.templates import MissingEnv, Renderer, TemplateRenderError
from wfmon.domain.run import (
    STEP_TO_EXECUTION,
    ExecutionResult,
    ExecutionStatus,
    StepResult,
    StepStatus,
    Timings,
)
from wfmon.domain.workflow import Workflow
from wfmon.httpclient import HttpClientFactory
from wfmon.redact import MASK, Redactor
from wfmon.runner.context import EngineLimits, StepContext, StepOutcome

# Cleanup steps get their own deadline even after the workflow's has passed, but no more.
CLEANUP_GRACE_S = 10.0


# Run ids only need to be unique: a per-process random prefix and a counter cost nothing,
# where uuid4() reads the OS random source on every run (4% of the engine's time).
_RUN_PREFIX = os.urandom(6).hex() + "-"
_RUN_COUNTER = itertools.count(1)


class _WorkflowTimeout(Exception):
    """The workflow's deadline passed while a step ran."""


@dataclass
class Engine:
    http: HttpClientFactory
    clock: Clock
    limits: EngineLimits = field(default_factory=EngineLimits)
    environ: Mapping[str, str] | None = None

    async def run(
        self,
        workflow: Workflow,
        *,
        location: str | None = None,
        slot_at: datetime | None = None,
        trigger: str = "schedule",
    ) -> ExecutionResult:
        """Run a workflow with its retry policy; the last attempt's result is returned."""
        where = location or workflow.locations[0]
        slot = slot_at or self.clock.now()
        policy = workflow.retries
        attempt = 0

        async def once() -> ExecutionResult:
            nonlocal attempt
            attempt += 1
            return await self.run_once(workflow, where, slot, trigger, attempt=attempt)

        if policy.attempts <= 0:
            return await once()
        retrying = AsyncRetrying(
            stop=stop_after_attempt(policy.attempts + 1),
            wait=wait_exponential_jitter(multiplier=policy.backoff_s, max=policy.max_backoff_s),
            retry=retry_if_result(lambda r: r.status.value in policy.on),
            sleep=self.clock.sleep,
            # Out of attempts: the last attempt's result is the execution's result.
            retry_error_callback=lambda state: state.outcome.result() if state.outcome else None,
        )
        result: ExecutionResult = await retrying(once)
        return result

    async def run_once(
        self, workflow: Workflow, location: str, slot_at: datetime, trigger: str, attempt: int = 1
    ) -> ExecutionResult:
        started = self.clock.now()
        t0 = self.clock.monotonic()
        redactor = Redactor()
        run_id = f"{_RUN_PREFIX}{next(_RUN_COUNTER):x}"
        context: dict[str, Any] = {
            "vars": dict(workflow.vars),
            "steps": {},
            "run": {
                "id": run_id,
                "workflow": workflow.name,
                "location": location,
                "slot": slot_at.isoformat(),
                "attempt": attempt,
                "started_at": started.isoformat(),
            },
        }
        renderer = Renderer(context, environ=self.environ, on_secret=redactor.add)
        session, owned = await self.http.session_for_execution()
        ctx = StepContext(
            workflow=workflow.name,
            location=location,
            slot_at=slot_at,
            renderer=renderer,
            redactor=redactor,
            session=session,
            http=self.http,
            clock=self.clock,
            limits=self.limits,
            outputs=context["steps"],
            keep_responses=workflow.keep_responses,
        )
        results: list[StepResult] = []
        status = ExecutionStatus.SUCCEEDED
        error: str | None = None
        # One timer per step: the sooner of the step's own deadline and the workflow's.
        deadline = asyncio.get_running_loop().time() + workflow.timeout_s
        try:
            try:
                for step in workflow.steps:
                    if status is not ExecutionStatus.SUCCEEDED and not step.always_run:
                        results.append(_skipped(step, self.clock.now()))
                        continue
                    result = await self._run_step(step, ctx, deadline=deadline)
                    if status is not ExecutionStatus.SUCCEEDED:
                        result = _cleanup_without_inputs(result)
                    results.append(result)
                    if (
                        status is ExecutionStatus.SUCCEEDED
                        and result.status is not StepStatus.SUCCEEDED
                    ):
                        status = STEP_TO_EXECUTION[result.status]
            except _WorkflowTimeout:
                status = ExecutionStatus.TIMEOUT
                error = f"workflow timed out after {workflow.timeout_s:g}s"
                await self._after_timeout(workflow, ctx, results, error)
        finally:
            if owned:
                await session.close()
        finished = self.clock.now()
        return ExecutionResult(
            workflow=workflow.name,
            location=location,
            slot_at=slot_at,
            started_at=started,
            finished_at=finished,
            status=status,
            steps=tuple(results),
            error=redactor.text(error) if error else None,
            attempts=attempt,
            trigger=trigger,
            workflow_version=workflow.version,
            elapsed_ms=(self.clock.monotonic() - t0) * 1000.0,
        )

    async def _after_timeout(
        self, workflow: Workflow, ctx: StepContext, results: list[StepResult], why: str
    ) -> None:
        """The step that was running is marked timed out; cleanup steps still run, each
        within a short grace; the rest are skipped."""
        done = {r.name for r in results}
        interrupted = False
        for step in workflow.steps:
            if step.name in done:
                continue
            if not interrupted:
                interrupted = True
                results.append(
                    StepResult(
                        name=step.name,
                        type=_type(step),
                        status=StepStatus.TIMEOUT,
                        started_at=self.clock.now(),
                        error=why,
                    )
                )
            elif step.always_run:
                limit = min(step.effective_timeout, CLEANUP_GRACE_S)
                results.append(await self._run_step(step, ctx, limit))
            else:
                results.append(_skipped(step, self.clock.now()))

    async def _run_step(
        self,
        step: StepBase,
        ctx: StepContext,
        limit: float | None = None,
        deadline: float = math.inf,
    ) -> StepResult:
        """Run one step within its timeout (or `limit`); raises _WorkflowTimeout when the
        workflow's `deadline` (loop time) comes first."""
        started = self.clock.now()
        t0 = self.clock.monotonic()
        outcome: StepOutcome | None = None
        status = StepStatus.SUCCEEDED
        error: str | None = None
        timeout = step.effective_timeout if limit is None else limit
        own = asyncio.get_running_loop().time() + timeout
        try:
            async with asyncio.timeout_at(min(own, deadline)):
                outcome = await step.run(ctx)
        except TimeoutError:
            if deadline < own:
                raise _WorkflowTimeout from None
            status, error = StepStatus.TIMEOUT, f"step timed out after {timeout:g}s"
        except (TemplateRenderError, MissingEnv) as exc:
            status, error = StepStatus.ERROR, str(exc)
        except ssl.SSLError as exc:
            status, error = StepStatus.ERROR, f"TLS: {exc.reason or exc}"
        except aiohttp.ClientConnectorCertificateError as exc:
            status, error = StepStatus.ERROR, f"TLS: {exc.certificate_error}"
        except aiohttp.ClientConnectorDNSError as exc:
            status, error = StepStatus.ERROR, f"DNS: {exc}"
        except aiohttp.ClientConnectorError as exc:
            status, error = StepStatus.ERROR, f"connection: {exc}"
        except aiohttp.ClientError as exc:
            status, error = StepStatus.ERROR, f"{type(exc).__name__}: {exc}"
        except OSError as exc:
            status, error = StepStatus.ERROR, f"connection: {exc.strerror or exc}"
        except ValueError as exc:
            status, error = StepStatus.ERROR, str(exc)
        except Exception as exc:  # a user's python step may raise anything: record, go on
            status, error = StepStatus.ERROR, f"{type(exc).__name__}: {exc}"
        if outcome is None:
            outcome = StepOutcome(timings=Timings(total_ms=(self.clock.monotonic() - t0) * 1000.0))
        else:
            # Values marked secret join the redactor before anything is masked.
            for name in outcome.secret_outputs:
                ctx.secret(outcome.outputs.get(name))
            ctx.outputs[step.name] = outcome.outputs
            if outcome.error:
                status, error = StepStatus.ERROR, outcome.error
            elif any(not a.passed for a in outcome.assertions):
                status = StepStatus.FAILED
        keep = ctx.keep_responses == "always"
        return _to_result(
            step, started, status, error, outcome, ctx.redactor, keep, self.limits.max_stored_body
        )


def _cleanup_without_inputs(result: StepResult) -> StepResult:
    """A cleanup step that needs a value an earlier, failed step never produced (logout
    without a token) did not fail: it had nothing to clean up. Skipped, with the reason."""
    if result.status is StepStatus.ERROR and (result.error or "").startswith("template "):
        return replace(result, status=StepStatus.SKIPPED, error=f"not run: {result.error}")
    return result


def _skipped(step: StepBase, now: datetime) -> StepResult:
    return StepResult(name=step.name, type=_type(step), status=StepStatus.SKIPPED, started_at=now)


def _type(step: StepBase) -> str:
    return str(getattr(step, "type", "unknown"))


def _to_result(
    step: StepBase,
    started: datetime,
    status: StepStatus,
    error: str | None,
    outcome: StepOutcome,
    redactor: Redactor,
    keep_response: bool,
    max_stored_body: int,
) -> StepResult:
    secret_names = outcome.secret_outputs
    extracted = {
        name: (MASK if name in secret_names else redactor.value(outcome.outputs.get(name)))
        for name in (*step.extract, *step.recorded_outputs)
        if name in outcome.outputs
    }
    assertions = tuple(
        a
        if not redactor
        else replace(
            a,
            expected=redactor.value(a.expected),
            actual=redactor.value(a.actual),
            message=redactor.text(a.message),
        )
        for a in outcome.assertions
    )
    headers: dict[str, str] = {}
    excerpt: str | None = None
    truncated = outcome.body_truncated
    # Headers and body are what a person debugging a failure needs; for successes they are
    # most of the stored bytes, so they are kept only when asked (keep_responses: always).
    if keep_response or status is not StepStatus.SUCCEEDED:
        headers = redactor.headers(outcome.response_headers)
        if outcome.body is not None:
            excerpt = redactor.text(
                outcome.body[:max_stored_body].decode("utf-8", errors="replace")
            )
            truncated = truncated or len(outcome.body) > max_stored_body
    return StepResult(
        name=step.name,
        type=_type(step),
        status=status,
        started_at=started,
        timings=outcome.timings,
        assertions=assertions,
        extracted=extracted,
        error=redactor.text(error) if error else None,
        request=redactor.value(outcome.request),
        response_status=outcome.response_status,
        response_headers=headers,
        body_excerpt=excerpt,
        body_truncated=truncated,
        redirects=tuple(outcome.redirects),
    )
