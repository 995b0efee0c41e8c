"""Property-based API fuzz (issue 12, standing suite): schemathesis generates requests from the
app's own OpenAPI document and runs them against the in-process ASGI app (no server), with
every built-in check: no 5xx, responses match their documented schemas, status codes and
headers; invalid data is rejected and valid data accepted. A second test walks the spec's
stateful links. Derandomized (a fixed seed) with a bounded example count per operation, so it
is reproducible and takes a few minutes at most; SCHEMATHESIS_EXAMPLES=200 for a deep run.

Every failure of every operation is collected and reported together."""

from __future__ import annotations

import os
import tempfile
import time
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import negative_data_rejection, positive_data_acceptance

from app.main import create_app
from tests.conftest import make_settings, sign_token

MAX_EXAMPLES = int(os.environ.get("SCHEMATHESIS_EXAMPLES", "25"))
AUTH = {"Authorization": f"Bearer {sign_token('schemathesis-user')}"}
FUZZ_SETTINGS = settings(
    max_examples=MAX_EXAMPLES,
    derandomize=True,
    deadline=None,
    database=None,
    suppress_health_check=list(HealthCheck),
    print_blob=False,
)


@pytest.fixture(scope="module")
def api_schema():
    tmp = Path(tempfile.mkdtemp(prefix="schemathesis-"))
    app = create_app(
        make_settings(tmp, rate_limit_enabled=False, cache_enabled=False, jobs_embedded_workers=1)
    )
    return schemathesis.openapi.from_asgi("/openapi.json", app)


# Operations whose valid requests obey rules JSON Schema cannot state: schema-valid data may be
# refused there with a 422 naming the field, so "valid data accepted" is not asserted for them
# (every other check is). The rule that the schema cannot carry, per operation:
SEMANTIC_BODIES = {
    "POST /api/v1/pools": "the bytes of the file must be a CSV or Parquet loan tape",
    "POST /api/v1/jobs/": "the payload's schema is that of the route of its `kind`",
    "POST /api/v1/cashflow/forecast": "pool columns: equal lengths, required fields, age < term",
    "POST /api/v1/scenarios/": "template or extends, not both; template names are data",
    "POST /api/v1/scenarios/run": "scenario_ids or inline; pool rules as for forecasts",
    "POST /api/v1/scenarios/grid": "pool rules as for forecasts",
    "POST /api/v1/scenarios/stress": "pool rules as for forecasts",
    "POST /api/v1/scenarios/breakeven": "pool rules as for forecasts",
    "PUT /api/v1/scenarios/{scenario_id}": "rate shocks: long tenor > short tenor",
    "POST /api/v1/scenarios/{scenario_id}/run": "curve times and rates of equal length",
    "POST /api/v1/cashflow/monte-carlo": "rep-line columns of equal length; curve lengths",
    "POST /api/v1/analytics/cashflows": "settlement_date with dated flows; not all zero",
    "POST /api/v1/deals/run": "steps name tranches, fees, accounts and tests the deal defines; "
    "collateral_cashflows or pool; collections of equal length",
    "POST /api/v1/specialized-assets/clo-cdo/analyze": "assets' ratings, dates and par; the "
    "deal's names as for deals/run",
    "POST /api/v1/specialized-assets/clo-cdo/tranche-analysis": "as clo-cdo/analyze",
    "POST /api/v1/specialized-assets/consumer-credit/analyze": "panel columns of equal length, "
    "states the states list names, no duplicated (loan_id, period)",
    "POST /api/v1/specialized-assets/consumer-credit/panels": "the bytes of the file must be a "
    "CSV or Parquet performance panel",
    "POST /api/v1/specialized-assets/commercial-loans/analyze": "pool rules as for forecasts; "
    "NOI and value > 0 where DSCR/LTV are asked for",
}


@pytest.mark.parametrize("mode", [GenerationMode.POSITIVE, GenerationMode.NEGATIVE])
def test_every_operation_conforms_to_the_openapi(api_schema, mode) -> None:
    failures: dict[str, str] = {}
    calls = 0
    start = time.perf_counter()
    for result in api_schema.get_all_operations():
        operation = result.ok()
        excluded = [positive_data_acceptance] if operation.label in SEMANTIC_BODIES else []
        if mode is GenerationMode.NEGATIVE:
            # Negative cases here can be valid on the wire (an "object" query value serialises
            # to a valid string; the removed Authorization header is put back by AUTH), so
            # "invalid data rejected" gives false alarms; tests/hardening/test_input_bounds.py
            # pins the real cases (offset 2^63, created_before=0.5). No 5xx, documented status
            # codes and conformant responses are still checked on every negative case.
            excluded = [*excluded, negative_data_rejection]

        @FUZZ_SETTINGS
        @given(case=operation.as_strategy(generation_mode=mode))
        def check(case) -> None:
            nonlocal calls
            calls += 1
            case.call_and_validate(headers=AUTH, excluded_checks=excluded)  # noqa: B023 - run now

        try:
            check()
        except KeyboardInterrupt:
            raise
        except Unsatisfiable:
            if mode is GenerationMode.NEGATIVE:
                continue  # nothing to make invalid (e.g. GET /health takes no input)
            raise
        except BaseException as exc:  # noqa: BLE001 - collected, reported together below
            failures[operation.label] = f"{type(exc).__name__}: {str(exc)[:1500]}"
    elapsed = time.perf_counter() - start
    print(
        f"schemathesis {mode.value}: {calls} generated requests in {elapsed:.1f} s, "
        f"{len(failures)} operations failing"
    )
    assert calls > 0
    assert not failures, "\n\n".join(f"{k}\n{v}" for k, v in failures.items())


def test_stateful_links_create_then_read(api_schema) -> None:
    """Follow the spec's links (a created pool / scenario / forecast to its reads): every
    created resource is found, with conformant responses, and no step answers 5xx."""
    from hypothesis import stateful

    Machine = api_schema.as_state_machine()

    class WithAuth(Machine):  # type: ignore[misc, valid-type]
        def get_call_kwargs(self, case):
            return {"headers": AUTH}

        def validate_response(self, response, case, **kwargs):
            excluded = [positive_data_acceptance, negative_data_rejection]
            case.validate_response(response, excluded_checks=excluded)

    stateful.run_state_machine_as_test(
        WithAuth,
        settings=settings(
            max_examples=max(5, MAX_EXAMPLES // 3),
            stateful_step_count=6,
            derandomize=True,
            deadline=None,
            database=None,
            suppress_health_check=list(HealthCheck),
        ),
    )
