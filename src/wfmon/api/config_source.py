"""The config file, as a separate API process sees it: loaded again when it changes.

The daemon hands its own loaded config to the API (`ApiContext.workflows`); `wfmon serve`
has only the file, read here on demand and cached until a file's modification time moves.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from wfmon.alerts.setup import AlertingConfig
from wfmon.config.loader import LoadResult, load
from wfmon.domain.workflow import Workflow


class ConfigFile:
    def __init__(self, path: Path, *, check_env: bool = True) -> None:
        self._path = path
        self._check_env = check_env
        self._stamp: tuple[float, ...] | None = None
        self._result = LoadResult()

    def result(self) -> LoadResult:
        stamp = self._fingerprint()
        if stamp != self._stamp:
            self._result = load(self._path, check_env=self._check_env)
            self._stamp = stamp
        return self._result

    def workflows(self) -> Sequence[Workflow]:
        """The valid workflows (a problem in one leaves the others usable)."""
        return self.result().workflows

    def alerting(self) -> AlertingConfig:
        result = self.result()
        return AlertingConfig.from_load(result) if result.files else AlertingConfig()

    def _fingerprint(self) -> tuple[float, ...]:
        path = self._path
        try:
            files = sorted(path.iterdir()) if path.is_dir() else [path]
            return tuple(f.stat().st_mtime_ns for f in files)
        except OSError:
            return ()
