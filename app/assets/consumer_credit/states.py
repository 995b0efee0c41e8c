"""The consumer-credit state vocabulary: default delinquency states, the role of each state in
the math (performing, delinquent, charged off, prepaid) and a validated `StateSpace`.

Callers may name their own states; a state's role, not its name, drives every formula.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import Enum, IntEnum

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from app.engine.errors import FieldProblem, InvalidInput


class DelinquencyState(str, Enum):  # noqa: UP042 - the str mixin keeps format() of the value
    """The default states, in order of severity (the last two absorbing)."""

    CURRENT = "current"
    DPD30 = "dpd30"
    DPD60 = "dpd60"
    DPD90 = "dpd90"
    DPD120 = "dpd120"
    CHARGED_OFF = "charged_off"
    PREPAID = "prepaid"


class StateRole(IntEnum):
    """What a state means to the projection (int8 codes in `StateSpace.roles`)."""

    PERFORMING = 0  # current: pays its scheduled principal
    DELINQUENT = 1  # behind on payments: no scheduled principal
    CHARGED_OFF = 2  # absorbing: the balance is a loss (before recoveries)
    PREPAID = 3  # absorbing: the balance was repaid early


DEFAULT_STATES: tuple[str, ...] = tuple(s.value for s in DelinquencyState)


@dataclass(frozen=True)
class StateSpace:
    """Ordered state names (order = severity, rows and columns of every matrix) and their roles.

    The first state is the performing one; `charge_off` and `prepay` name the absorbing states
    of those roles (None: the chain has none); `absorbing` may add other absorbing states.
    """

    names: tuple[str, ...]
    roles: np.ndarray  # int8 StateRole per state
    absorbing: np.ndarray  # bool per state

    @property
    def n(self) -> int:
        return len(self.names)

    def index(self, role: StateRole) -> int | None:
        hit = np.flatnonzero(self.roles == role)
        return int(hit[0]) if hit.size else None

    @property
    def live(self) -> np.ndarray:
        """States that are not absorbing (their balance is outstanding)."""
        return ~self.absorbing

    @classmethod
    def build(
        cls,
        names: Sequence[str] | None = None,
        *,
        charge_off: str | None = DelinquencyState.CHARGED_OFF.value,
        prepay: str | None = DelinquencyState.PREPAID.value,
        absorbing: Sequence[str] = (),
        field: str = "states",
    ) -> StateSpace:
        """Validate names (unique, non-empty); charge_off/prepay default to the default names
        and are ignored when the caller's states do not contain them."""
        names = tuple(DEFAULT_STATES if names is None else names)
        problems: list[FieldProblem] = []
        if len(names) < 2:
            problems.append(FieldProblem(None, field, "give at least two states"))
        seen: set[str] = set()
        for i, nm in enumerate(names):
            if not isinstance(nm, str) or not nm.strip():
                problems.append(FieldProblem(i, field, "a state name must be a non-empty string"))
            elif nm in seen:
                problems.append(FieldProblem(i, field, f"state {nm!r} is listed twice"))
            seen.add(nm)
        for i, nm in enumerate(absorbing):
            if nm not in seen:
                problems.append(FieldProblem(i, "absorbing", f"unknown state {nm!r}"))
        if problems:
            raise InvalidInput(problems)
        roles = np.full(len(names), StateRole.DELINQUENT, dtype=np.int8)
        roles[0] = StateRole.PERFORMING
        absorb = np.array([nm in set(absorbing) for nm in names], dtype=bool)
        for role, named in ((StateRole.CHARGED_OFF, charge_off), (StateRole.PREPAID, prepay)):
            if named is not None and named in seen:
                k = names.index(named)
                if k == 0:
                    raise InvalidInput(
                        [FieldProblem(0, field, "the first state must be the performing one")]
                    )
                roles[k] = role
                absorb[k] = True
        return cls(names=names, roles=roles, absorbing=absorb)

    def codes(self, values: object, field: str = "state") -> np.ndarray:
        """Map state names to int64 codes (Arrow dictionary encoding, no Python loop over rows);
        null/'' -> -1 (a missing observation); an unknown name is an InvalidInput naming its
        rows (the first 20)."""
        arr = (
            values
            if isinstance(values, pa.Array | pa.ChunkedArray)
            else pa.array(values, from_pandas=True)
        )
        if isinstance(arr, pa.ChunkedArray):
            arr = arr.combine_chunks()
        if not pa.types.is_dictionary(arr.type):
            if not (
                pa.types.is_string(arr.type)
                or pa.types.is_large_string(arr.type)
                or pa.types.is_null(arr.type)
            ):
                arr = pc.cast(arr, pa.string())
            arr = arr.dictionary_encode()
        dictionary = arr.dictionary.to_pylist()
        lookup = {nm: i for i, nm in enumerate(self.names)}
        table = np.array(
            [lookup.get(u, -1 if u in (None, "") else -2) for u in dictionary] + [-1],
            dtype=np.int64,
        )
        idx = (
            pc.fill_null(arr.indices, len(dictionary))
            .to_numpy(zero_copy_only=False)
            .astype(np.int64)
        )
        out = table[idx]
        bad = np.flatnonzero(out == -2)
        if bad.size:
            raise InvalidInput(
                [
                    FieldProblem(
                        int(r),
                        field,
                        f"unknown state {dictionary[idx[r]]!r} (states: {', '.join(self.names)})",
                    )
                    for r in bad[:20].tolist()
                ]
            )
        return out
