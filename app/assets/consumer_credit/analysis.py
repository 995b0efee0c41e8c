"""One consumer-credit analysis: every part (roll rates, pipeline and the engine's cash flows,
vintages, score migration, macro scenarios, revolving trust) that the inputs allow.

Pure: a plain dict request (the route's body), an engine `LoanPool`, panel columns and resolved
macro scenarios in, JSON-ready dicts of NumPy arrays out. Problems are `InvalidInput` whose
column is the dotted path of the request field (e.g. `performance.columns.state`, row 17).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np

from app.assets.consumer_credit import macro as macro_link
from app.assets.consumer_credit import pipeline as pipe
from app.assets.consumer_credit.loan_types import LOAN_TYPES, LoanType, LoanTypeSpec
from app.assets.consumer_credit.panel import Panel, as_array, float_column
from app.assets.consumer_credit.revolving import RATES, project_trust
from app.assets.consumer_credit.roll_rates import Method, Weight, estimate
from app.assets.consumer_credit.score_migration import band_codes, migration, pairs_from_panel
from app.assets.consumer_credit.states import StateSpace
from app.assets.consumer_credit.vintages import (
    outcomes_from_columns,
    outcomes_from_panel,
    vintage_curves,
)
from app.engine.errors import FieldProblem, InvalidInput
from app.engine.markov import Interval
from app.engine.pool import LoanPool
from app.engine.projection import Projection, project_pool
from app.engine.speeds import rate_matrix
from app.engine.types import Assumptions

Progress = Callable[[str], None]


@dataclass(frozen=True)
class MacroScenario:
    """A named macro path set (from a saved scenario's `macro` block or inline)."""

    name: str
    paths: Mapping[str, Sequence[float]]
    reference: Mapping[str, float] | None = None
    scenario_id: str | None = None


@contextmanager
def located(prefix: str) -> Iterator[None]:
    """Re-raise InvalidInput with every column under `prefix` (a dotted request path)."""
    try:
        yield
    except InvalidInput as exc:
        raise InvalidInput(
            [
                FieldProblem(p.row, f"{prefix}.{p.column}" if prefix else p.column, p.reason)
                for p in exc.problems
            ]
        ) from exc


def _space(rr: Mapping[str, Any]) -> StateSpace:
    with located("roll_rates"):
        return StateSpace.build(
            rr.get("states"),
            charge_off=rr.get("charge_off_state", "charged_off"),
            prepay=rr.get("prepay_state", "prepaid"),
            absorbing=rr.get("absorbing") or (),
        )


def _measures(proj: Projection, discount_rate: float | None) -> dict[str, Any]:
    from app.engine.analytics.summary import cashflow_measures

    c = proj.columns
    principal = (
        c["scheduled_principal"] + c["prepayment"] + c["defaulted_amortization"] + c["recovery"]
    )
    out = cashflow_measures(
        c["total_cashflow"],
        c["period"].astype(np.float64) / 12.0,
        principal=principal,
        frequency=12,
        discount_rate=discount_rate,
    )
    return {k: (None if v is None or not np.isfinite(v) else float(v)) for k, v in out.items()}


def _cash_json(proj: Projection) -> dict[str, Any]:
    return {k: (v.astype(np.int64) if k == "period" else v) for k, v in proj.columns.items()}


def _rep_line(total: float, rate: float, term: int) -> LoanPool:
    return LoanPool.from_columns(
        {
            "loan_id": ["pipeline"],
            "balance": [total],
            "rate": [rate],
            "original_term_months": [term],
        }
    )


def _start_from_panel(panel: Panel, space: StateSpace) -> dict[str, float]:
    last = panel.period == panel.period.max()
    w = panel.balance if panel.balance is not None else np.ones(len(panel))
    ok = last & (panel.state >= 0)
    sums = np.bincount(panel.state[ok], weights=w[ok], minlength=space.n)
    return {nm: float(sums[i]) for i, nm in enumerate(space.names) if space.live[i] and sums[i] > 0}


class _Run:
    def __init__(
        self,
        req: Mapping[str, Any],
        pool: LoanPool | None,
        panel_columns: Mapping[str, Any] | None,
        scenarios: Sequence[MacroScenario],
        progress: Progress | None,
    ) -> None:
        self.req = req
        self.pool = pool
        self.spec: LoanTypeSpec = LOAN_TYPES[LoanType(req.get("loan_type", "personal_installment"))]
        self.rr = req.get("roll_rates") or {}
        self.space = _space(self.rr)
        self.panel = None
        if panel_columns is not None:
            with located("performance.columns"):
                self.panel = Panel.from_columns(panel_columns, self.space)
        self.panel_columns = panel_columns
        self.scenarios = scenarios
        self.progress = progress or (lambda step: None)
        self.warnings: list[str] = []
        self.out: dict[str, Any] = {
            "loan_type": self.spec.loan_type.value,
            "roll_rates": None,
            "pipeline": None,
            "vintages": None,
            "score_migration": None,
            "macro": None,
            "revolving": None,
            "cashflows": None,
            "analytics": None,
        }
        d = self.spec.defaults
        sev = req.get("severity")
        lag = req.get("recovery_lag_months")
        self.assumptions = Assumptions(
            severity=float(d.get("severity", 0.0) if sev is None else sev),
            recovery_lag_months=int(d.get("recovery_lag_months", 0) if lag is None else lag),
        )

    # --- parts -------------------------------------------------------------------------
    def matrix(self) -> np.ndarray | None:
        rr = self.rr
        if rr.get("matrix") is not None:
            p = np.asarray(rr["matrix"], dtype=np.float64)
            with located("roll_rates"):
                pipe.check_matrix(self.space, p)
            self.out["roll_rates"] = {
                "method": "given",
                "weight": None,
                "states": list(self.space.names),
                "matrix": p,
                "counts": None,
                "row_totals": None,
                "ci_low": None,
                "ci_high": None,
                "segments": [],
            }
            return p
        if self.panel is None:
            return None
        with located("roll_rates"):
            res = estimate(
                self.panel,
                method=Method(rr.get("method", "cohort")),
                weight=Weight(rr.get("weight", "count")),
                segment_by=rr.get("segment_by") or (),
                kind=Interval(rr.get("interval", "wilson")),
            )
        self.out["roll_rates"] = res.as_json()
        self.warnings += res.warnings
        p = res.overall.matrix
        if not np.all(np.isfinite(p)):
            self.warnings.append("the estimated matrix has null rows: no pipeline from it")
            return None
        return p

    def pipeline_inputs(self) -> tuple[np.ndarray, int, bool, float, int]:
        cfg = self.req.get("pipeline") or {}
        start = cfg.get("start_balances")
        if start is None:
            if self.panel is not None:
                start = _start_from_panel(self.panel, self.space)
            elif self.pool is not None:
                start = {self.space.names[0]: self.pool.total_balance}
            else:
                raise InvalidInput(
                    [
                        FieldProblem(
                            None, "pipeline.start_balances", "required without a panel or a pool"
                        )
                    ]
                )
        with located("pipeline"):
            v0 = pipe.start_vector(self.space, start)
        d = self.spec.defaults
        if self.pool is not None and cfg.get("rate") is None:
            w = self.pool.balance / self.pool.total_balance
            rate, term = (
                float(w @ self.pool.rate),
                int(round(float(w @ self.pool.remaining_term_months))),
            )
        else:
            given = cfg.get("rate")
            rate = float(given if given is not None else d["rate"])
            term = int(cfg.get("term_months") or d["original_term_months"])
        if cfg.get("term_months"):
            term = int(cfg["term_months"])
        return v0, int(cfg.get("months", 60)), bool(cfg.get("amortize", True)), rate, term

    def run_pipeline(
        self, p: np.ndarray, v0: np.ndarray, months: int, amortize: bool, rate: float, term: int
    ) -> tuple[pipe.PipelineResult, Projection, dict[str, Any]]:
        res = pipe.project(
            self.space, p, v0, months, amortize=amortize, rate=rate, term_months=term
        )
        pool = (
            self.pool
            if self.pool is not None
            else _rep_line(float(v0[self.space.live].sum()) or 1.0, rate, term)
        )
        smm = None
        if self.space.index(pipe.StateRole.PREPAID) is None:
            speed = self.spec.assumptions().prepayment
            smm = rate_matrix(
                speed, np.zeros(1, dtype=np.int64), np.array([max(term, months)]), months
            )[0]
        proj = pipe.cashflows(pool, res, self.assumptions, smm_override=smm)
        return res, proj, _measures(proj, self.req.get("discount_rate"))

    def pool_by_type(self) -> Projection:
        """No pipeline: each loan at its `loan_type`'s default assumptions (the request's type
        where the column is absent), the groups projected by the engine and summed per period."""
        pool = self.pool
        assert pool is not None
        raw = pool.extra.get("loan_type")
        if raw is None:
            self.warnings.append(
                f"cash flows at the {self.spec.loan_type.value} default assumptions (no pipeline)"
            )
            return project_pool(pool, self.spec.assumptions())
        names = np.asarray(raw, dtype=object)
        known = {t.value for t in LoanType}
        bad = [i for i, v in enumerate(names.tolist()) if v not in known and v not in (None, "")]
        if bad:
            raise InvalidInput(
                [
                    FieldProblem(i, "pool.loan_type", f"unknown loan type {names[i]!r}")
                    for i in bad[:20]
                ]
            )
        names = np.where(np.isin(names, list(known)), names, self.spec.loan_type.value)
        n = max(
            int(pool.remaining_term_months.max())
            + int(self.spec.defaults.get("recovery_lag_months", 0)),
            1,
        )
        n = max(
            n,
            *(
                int(pool.remaining_term_months.max())
                + int(LOAN_TYPES[LoanType(t)].defaults.get("recovery_lag_months", 0))
                for t in set(names.tolist())
            ),
        )
        total: dict[str, np.ndarray] | None = None
        for t in sorted(set(names.tolist())):
            part = project_pool(
                pool.take(np.flatnonzero(names == t)),
                LOAN_TYPES[LoanType(t)].assumptions(n_periods=n),
            )
            total = (
                dict(part.columns)
                if total is None
                else {k: total[k] + part.columns[k] for k in total}
            )
        assert total is not None
        total["period"] = np.arange(1, n + 1)
        self.warnings.append(
            "cash flows at each loan's loan_type default assumptions (no pipeline)"
        )
        return Projection(columns=total, n_periods=n)

    def vintages(self) -> None:
        cfg = self.req.get("vintages")
        if cfg is None:
            return
        if cfg.get("outcomes"):
            with located("vintages.outcomes.columns"):
                out = outcomes_from_columns(cfg["outcomes"]["columns"], as_of=cfg.get("as_of"))
        elif self.panel is not None:
            with located("performance.columns"):
                out = outcomes_from_panel(
                    self.panel,
                    origination=cfg.get("origination_column", "origination_date"),
                    as_of=cfg.get("as_of"),
                )
        else:
            raise InvalidInput(
                [FieldProblem(None, "vintages.outcomes", "give outcomes or a performance panel")]
            )
        with located("vintages"):
            self.out["vintages"] = vintage_curves(
                out,
                fit=bool(cfg.get("fit")),
                max_months=cfg.get("max_months"),
                segment_by=cfg.get("segment_by") or (),
            )

    def score_migration(self) -> None:
        cfg = self.req.get("score_migration")
        if cfg is None:
            return
        bands = list(cfg["bands"])
        with located("score_migration"):
            if cfg.get("snapshots"):
                cols = cfg["snapshots"]["columns"]
                for c in ("band_from", "band_to"):
                    if c not in cols:
                        raise InvalidInput(
                            [
                                FieldProblem(
                                    None, f"snapshots.columns.{c}", "required column is missing"
                                )
                            ]
                        )
                frm = band_codes(cols["band_from"], bands, "snapshots.columns.band_from")
                to = band_codes(cols["band_to"], bands, "snapshots.columns.band_to")
                w = (
                    float_column(as_array(cols["balance"]), "snapshots.columns.balance")
                    if "balance" in cols
                    else np.ones(frm.size)
                )
                if not np.all(np.isfinite(w) & (w >= 0)) or w.size != frm.size:
                    raise InvalidInput(
                        [
                            FieldProblem(
                                None,
                                "snapshots.columns.balance",
                                "must be amounts >= 0, one per row",
                            )
                        ]
                    )
            elif self.panel_columns is not None:
                frm, to, w = pairs_from_panel(
                    self.panel_columns,
                    bands,
                    int(cfg.get("horizon", 12)),
                    cfg.get("band_column", "score_band"),
                )
            else:
                raise InvalidInput(
                    [
                        FieldProblem(
                            None,
                            "snapshots",
                            "give snapshots or a performance panel with a band column",
                        )
                    ]
                )
            self.out["score_migration"] = migration(
                frm,
                to,
                w,
                bands,
                powers=cfg.get("powers") or (2, 4),
                pd=cfg.get("pd"),
                severity=float(cfg.get("severity", 1.0)),
                exposure=cfg.get("exposure"),
            )

    def macro(
        self, p: np.ndarray | None, inputs: tuple[np.ndarray, int, bool, float, int] | None
    ) -> None:
        cfg = self.req.get("macro")
        if cfg is None:
            return
        link = macro_link.Link(cfg.get("link", "logit"))
        coefficients = {k: float(v) for k, v in (cfg.get("coefficients") or {}).items()}
        fit = None
        if cfg.get("estimate"):
            if self.panel is None:
                raise InvalidInput(
                    [
                        FieldProblem(
                            None, "macro.estimate", "needs a performance panel with macro columns"
                        )
                    ]
                )
            with located("performance.columns"):
                fit = macro_link.estimate(
                    self.panel, cfg.get("variables") or list(coefficients), link
                )
            coefficients = dict(fit["coefficients"])
        if p is None or inputs is None:
            raise InvalidInput(
                [
                    FieldProblem(
                        None,
                        "macro",
                        "needs a complete matrix: roll_rates.matrix, or a panel in "
                        "which every live state is observed (name only those states)",
                    )
                ]
            )
        scen = list(self.scenarios) + [
            MacroScenario(n, s["paths"], s.get("reference"))
            for n, s in (cfg.get("paths") or {}).items()
        ]
        v0, months, amortize, rate, term = inputs
        ref: dict[str, float] = dict(cfg.get("reference") or {})
        if scen and not ref:
            first = scen[0]
            ref = {k: float(v[0]) for k, v in first.paths.items() if len(v)} | dict(
                first.reference or {}
            )
        runs = []
        for k, sc in enumerate([MacroScenario("unstressed", {}), *scen]):
            with located(f"macro.scenarios.{k - 1}" if k else "macro"):
                delta = macro_link.shift_path(coefficients if k else {}, sc.paths, ref, months)
            pt = macro_link.stressed_matrices(p, self.space, delta, link)
            res, proj, analytics = self.run_pipeline(pt, v0, months, amortize, rate, term)
            runs.append(
                {
                    "name": sc.name,
                    "scenario_id": sc.scenario_id,
                    "shift": delta,
                    "pipeline": res.as_json(),
                    "cumulative_charge_off": np.cumsum(res.charge_off),
                    "cashflows": _cash_json(proj),
                    "analytics": analytics,
                }
            )
        self.out["macro"] = {
            "link": link.value,
            "model": "F^-1(w_t) = F^-1(w) + sum_v beta_v (x_v,t - x_v,ref)",
            "coefficients": coefficients,
            "reference": ref,
            "standard_errors": None if fit is None else fit["coefficient_standard_errors"],
            "estimation": fit,
            "scenarios": runs,
        }

    def revolving(self) -> None:
        cfg = self.req.get("revolving")
        if cfg is None:
            return
        d = LOAN_TYPES[LoanType.CREDIT_CARD].defaults
        rates = {k: (cfg.get(k) if cfg.get(k) is not None else d[k]) for k in RATES}
        with located("revolving"):
            self.out["revolving"] = project_trust(
                float(cfg["receivables"]), int(cfg.get("months", 24)), rates
            )

    def run(self) -> dict[str, Any]:
        self.progress("roll_rates")
        p = self.matrix()
        inputs = None
        if p is not None and (
            self.req.get("pipeline") is not None or self.req.get("macro") is not None
        ):
            inputs = self.pipeline_inputs()
        if p is not None and self.req.get("pipeline") is not None and inputs is not None:
            self.progress("pipeline")
            res, proj, analytics = self.run_pipeline(p, *inputs)
            self.out["pipeline"] = res.as_json()
            self.out["cashflows"], self.out["analytics"] = _cash_json(proj), analytics
        elif self.pool is not None:
            proj = self.pool_by_type()
            self.out["cashflows"], self.out["analytics"] = (
                _cash_json(proj),
                _measures(proj, self.req.get("discount_rate")),
            )
        elif self.req.get("pipeline") is not None:
            self.warnings.append(
                "pipeline needs a matrix: give roll_rates.matrix or a performance panel"
            )
        self.progress("vintages")
        self.vintages()
        self.progress("score_migration")
        self.score_migration()
        self.progress("macro")
        self.macro(p, inputs)
        self.revolving()
        self.out["warnings"] = self.warnings
        return self.out


def analyze(
    req: Mapping[str, Any],
    *,
    pool: LoanPool | None = None,
    panel_columns: Mapping[str, Any] | None = None,
    scenarios: Sequence[MacroScenario] = (),
    progress: Progress | None = None,
) -> dict[str, Any]:
    """Run every part the inputs allow (module docstring)."""
    return _Run(req, pool, panel_columns, scenarios, progress).run()
