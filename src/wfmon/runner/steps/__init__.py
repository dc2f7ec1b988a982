"""The step-type registry: one module, one class, one line here.

A step type is a config model (a StepBase subclass with `type: Literal[...]`) that also knows
how to run: `async def run(self, ctx: StepContext) -> StepOutcome`. The config schema builds its
discriminated union from this registry, and the contract tests run every entry.
"""

from __future__ import annotations

from wfmon.config.base import StepBase
from wfmon.runner.steps.http import HttpStep
from wfmon.runner.steps.python import PythonStep
from wfmon.runner.steps.tcp import TcpStep
from wfmon.runner.steps.tls import TlsStep

STEP_TYPES: dict[str, type[StepBase]] = {
    "http": HttpStep,
    "tcp": TcpStep,
    "tls": TlsStep,
    "python": PythonStep,
}
