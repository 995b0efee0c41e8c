"""Shared test data and helpers: the bearer header of a test user and the three standard loans
(A1: new 30-year, A2: seasoned 15-year, A3: 10-year) that API tests build their pools from.
Tests that need a variant spell out only what differs: `{**LOAN_A2, "servicing_fee": 0.0025}`."""

from __future__ import annotations

from typing import Any

from tests.conftest import sign_token


def bearer(sub: str) -> dict[str, str]:
    """The Authorization header of user `sub` (an HS256 token signed with the test secret)."""
    return {"Authorization": f"Bearer {sign_token(sub)}"}


LOAN_A1: dict[str, Any] = {
    "loan_id": "A1",
    "balance": 300000,
    "rate": 0.065,
    "original_term_months": 360,
}
LOAN_A2: dict[str, Any] = {
    "loan_id": "A2",
    "balance": 150000,
    "rate": 0.055,
    "original_term_months": 180,
    "age_months": 24,
}
LOAN_A3: dict[str, Any] = {
    "loan_id": "A3",
    "balance": 80000,
    "rate": 0.07,
    "original_term_months": 120,
}
