"""Scenario resolution: a scenario's stored definition, and its resolved assumptions built
through its template and its chain of parents (`extends`)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from app.core.errors import Conflict, Loc, ValidationFailed
from app.models.forecasts import (
    AssumptionOverrides,
    AssumptionsIn,
    CDRVector,
    CPRVector,
    MDRVector,
    SMMVector,
)
from app.models.scenarios import (
    RateShockIn,
    ResolvedScenario,
    ScenarioFields,
    ScenarioMonteCarloIn,
    VectorsIn,
)
from app.models.tables import Scenario
from app.services.repositories.scenarios import ScenarioRepository
from app.services.templates import TEMPLATES

MAX_DEPTH = 16
"""Longest chain of `extends` (a scenario, its parent, ...) that resolution follows."""


def definition_of(fields: ScenarioFields) -> dict[str, Any]:
    """What a scenario stores of its own: set assumption fields, shocks, vectors (JSON)."""
    return {
        "assumptions": fields.assumptions.model_dump(mode="json", exclude_unset=True),
        "rate_shocks": None
        if fields.rate_shocks is None
        else [s.model_dump(mode="json") for s in fields.rate_shocks],
        "vectors": None
        if fields.vectors is None
        else fields.vectors.model_dump(mode="json", exclude_none=True),
        # stored with its defaults written out: a later change of a default never changes
        # what a stored version runs
        "monte_carlo": None
        if fields.monte_carlo is None
        else fields.monte_carlo.model_dump(mode="json", by_alias=True),
        "macro": None
        if fields.macro is None
        else fields.macro.model_dump(mode="json", exclude_none=True),
    }


@dataclass(frozen=True)
class Level:
    """One level of a scenario chain: its stored definition and where it comes from."""

    label: str
    definition: dict[str, Any]


def check_template(key: str | None, loc: Loc) -> None:
    if key is not None and key not in TEMPLATES:
        raise ValidationFailed.single(
            [*loc, "template"], f"unknown template {key!r}; see GET /api/v1/scenarios/templates"
        )


def resolve_levels(template: str | None, levels: Sequence[Level]) -> ResolvedScenario:
    """Fold a chain, root first: template (or the schema defaults), then each level's set
    assumption fields (each replaces the inherited field), rate shocks (replace the list when
    given), vectors (replace name by name) and the Monte Carlo block (replaces the inherited
    block wholesale when given); the vectors are then applied to the speeds."""
    lineage: list[str] = []
    if template is not None:
        t = TEMPLATES[template]
        assumptions = t.assumptions
        shocks = list(t.rate_shocks)
        lineage.append(f"template:{template}")
    else:
        assumptions = AssumptionsIn.model_validate({})
        shocks = []
    vectors: dict[str, Any] = {}
    monte_carlo: ScenarioMonteCarloIn | None = None
    for level in levels:
        ov = AssumptionOverrides.model_validate(level.definition.get("assumptions") or {})
        update = {k: getattr(ov, k) for k in ov.model_fields_set if getattr(ov, k) is not None}
        assumptions = assumptions.model_copy(update=update)
        if level.definition.get("rate_shocks") is not None:
            shocks = [RateShockIn.model_validate(s) for s in level.definition["rate_shocks"]]
        vec = level.definition.get("vectors")
        if vec:
            if "cpr" in vec or "smm" in vec:
                vectors.pop("cpr", None)
                vectors.pop("smm", None)
            if "cdr" in vec or "mdr" in vec:
                vectors.pop("cdr", None)
                vectors.pop("mdr", None)
            paths = {**vectors.get("index_paths", {}), **vec.get("index_paths", {})}
            vectors.update(vec)
            if paths:
                vectors["index_paths"] = paths
        if level.definition.get("monte_carlo") is not None:
            monte_carlo = ScenarioMonteCarloIn.model_validate(level.definition["monte_carlo"])
        lineage.append(level.label)
    vin = VectorsIn.model_validate(vectors) if vectors else None
    return ResolvedScenario(
        assumptions=apply_vectors(assumptions, vin),
        rate_shocks=shocks,
        vectors=vin,
        monte_carlo=monte_carlo,
        lineage=lineage,
    )


def apply_vectors(a: AssumptionsIn, v: VectorsIn | None) -> AssumptionsIn:
    """Assumptions with the vectors in place of the speeds (cpr/smm -> prepayment, cdr/mdr ->
    default) and their index paths merged in."""
    if v is None:
        return a
    update: dict[str, Any] = {}
    if v.cpr is not None:
        update["prepayment"] = CPRVector(type="cpr_vector", values=v.cpr)
    elif v.smm is not None:
        update["prepayment"] = SMMVector(type="smm_vector", values=v.smm)
    if v.cdr is not None:
        update["default"] = CDRVector(type="cdr_vector", values=v.cdr)
    elif v.mdr is not None:
        update["default"] = MDRVector(type="mdr_vector", values=v.mdr)
    if v.index_paths:
        update["index_paths"] = {**a.index_paths, **v.index_paths}
    return a.model_copy(update=update)


async def chain_of(
    repo: ScenarioRepository, owner_id: str, row: Scenario
) -> tuple[str | None, list[Scenario]]:
    """(root template, [root, ..., row]) following `extends`; a cycle or a chain longer than
    MAX_DEPTH is a 409 (stored data that cannot be resolved)."""
    chain = [row]
    seen = {row.id}
    while chain[-1].extends_id is not None:
        parent = await repo.get_owned(owner_id, chain[-1].extends_id)
        if parent is None:
            raise Conflict(f"scenario {chain[-1].id} extends a scenario that no longer exists")
        if parent.id in seen or len(chain) >= MAX_DEPTH:
            raise Conflict(
                f"scenario {row.id}: its extends chain loops or is deeper than {MAX_DEPTH}"
            )
        seen.add(parent.id)
        chain.append(parent)
    chain.reverse()
    return chain[0].template, chain


async def resolve_row(repo: ScenarioRepository, owner_id: str, row: Scenario) -> ResolvedScenario:
    template, chain = await chain_of(repo, owner_id, row)
    return resolve_levels(template, [Level(f"scenario:{r.id}", r.definition) for r in chain])


async def resolve_fields(
    repo: ScenarioRepository,
    owner_id: str,
    fields: ScenarioFields,
    loc: Loc,
    *,
    self_id: str | None = None,
    label: str = "inline",
) -> ResolvedScenario:
    """Resolve a definition that is not stored (a create/update body or an inline scenario);
    its parent must be one of the caller's scenarios and must not lead back to `self_id`."""
    check_template(fields.template, loc)
    levels: list[Level] = []
    template = fields.template
    if fields.extends is not None:
        parent = await repo.get_owned(owner_id, fields.extends)
        if parent is None:
            raise ValidationFailed.single([*loc, "extends"], "no such scenario of yours")
        template, chain = await chain_of(repo, owner_id, parent)
        if self_id is not None and any(r.id == self_id for r in chain):
            raise ValidationFailed.single(
                [*loc, "extends"], "a scenario cannot extend itself or one of its descendants"
            )
        levels = [Level(f"scenario:{r.id}", r.definition) for r in chain]
    levels.append(Level(label, definition_of(fields)))
    return resolve_levels(template, levels)
