"""Errors raised by the engine. The service maps every EngineError to a 4xx response."""

from __future__ import annotations

from dataclasses import dataclass


class EngineError(ValueError):
    """Base of every error the engine raises for bad input; `field` names the offending input."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


@dataclass(frozen=True)
class FieldProblem:
    """One problem in tabular input: the row (0-based, None for a whole column) and column."""

    row: int | None
    column: str
    reason: str


class InvalidInput(EngineError):
    """Input that breaks a documented rule; carries every problem found, not only the first."""

    def __init__(self, problems: list[FieldProblem], *, message: str | None = None) -> None:
        self.problems = problems
        first = problems[0] if problems else None
        text = message or (
            f"{len(problems)} invalid value(s); first: column {first.column!r}"
            + (f" row {first.row}" if first and first.row is not None else "")
            + f": {first.reason}"
            if first
            else "invalid input"
        )
        super().__init__(text, field=first.column if first else None)


class NoSolution(EngineError):
    """A solver could not find a root: no sign change, or a target no value can reach."""


class ConvergenceError(EngineError):
    """A bracketed solver did not reach its tolerance within its iteration budget."""


class NonFiniteInput(EngineError):
    """An input contains NaN or an infinite value."""


class EmptyCashflows(EngineError):
    """A cash-flow vector has no flows (or every flow is zero)."""


class NoSignChange(NoSolution):
    """A cash flow whose amounts never change sign has no internal rate of return."""


class UnreachablePrice(NoSolution):
    """A target price that no yield or spread in the admissible range can produce."""
