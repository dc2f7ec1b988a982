"""The one exception tree. Every error says whether a retry can help."""

from __future__ import annotations

from dataclasses import dataclass


class WfmonError(Exception):
    """Base of every error wfmon raises on purpose."""

    permanent: bool = True


@dataclass(frozen=True)
class ConfigProblem:
    """One problem found in a configuration file, located precisely."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        text = f"{where}: {self.path or '<root>'}: {self.message}"
        if self.hint:
            text += f" (hint: {self.hint})"
        return text


class ConfigError(WfmonError):
    """A configuration that cannot be used; carries every problem found in one pass."""

    def __init__(self, problems: list[ConfigProblem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class WorkflowNotFound(WfmonError):
    def __init__(self, name: str, known: list[str]) -> None:
        self.name = name
        self.known = known
        hint = f"; known workflows: {', '.join(sorted(known))}" if known else ""
        super().__init__(f"no workflow named {name!r}{hint}")


class StorageError(WfmonError):
    """The database failed; transient unless said otherwise."""

    permanent = False


class StepError(WfmonError):
    """A step could not run (connection refused, DNS, TLS, bad response)."""

    permanent = False


class NotifierError(WfmonError):
    """A notification was not delivered.

    `permanent` says whether sending the same message again can help: a 401 or a bad URL
    will fail the same way forever (the outbox marks the row dead at once), a 503 or a
    refused connection may pass later (the outbox retries with backoff). `retry_after` is
    the receiver's own wish (seconds, from `Retry-After`), honoured over the backoff.
    """

    def __init__(
        self,
        message: str,
        *,
        permanent: bool,
        status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        super().__init__(message)
        self.permanent = permanent
        self.status = status
        self.retry_after = retry_after
