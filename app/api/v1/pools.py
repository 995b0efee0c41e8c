"""Pools API: upload a loan tape (CSV or Parquet) once, reference it in forecasts by id."""

from __future__ import annotations

import json
from typing import Annotated, Literal

from fastapi import APIRouter, File, Form, Query, Response, UploadFile

from app.api.deps import CurrentUser, SessionDep, SettingsDep
from app.api.v1._responses import ERRORS, NumpyJSONResponse, OffsetQuery, error_doc, links, utc
from app.core.errors import ValidationFailed
from app.core.request_context import get_request_id
from app.models.pools import PoolOut, PoolPage
from app.services import pools, tape_pools

router = APIRouter(tags=["pools"], responses=ERRORS)
UPLOAD_ERRORS: dict[int | str, dict] = {
    415: error_doc("The file is declared with a content type that is not a CSV or Parquet tape.")
}


def _out(row) -> dict:
    out = pools.to_out(row)
    out.created_at = utc(out.created_at)  # type: ignore[assignment]
    return out.model_dump(mode="json")


def _parse_map(text: str | None) -> dict[str, str] | None:
    if text is None or not text.strip():
        return None
    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ValidationFailed.single(["body", "column_map"], f"not valid JSON: {exc.msg}") from exc
    if not isinstance(value, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in value.items()
    ):
        raise ValidationFailed.single(
            ["body", "column_map"], "must be a JSON object of tape column -> field name strings"
        )
    return value


@router.post(
    "/pools",
    response_model=PoolOut,
    status_code=201,
    summary="Upload a loan tape",
    responses={
        **UPLOAD_ERRORS,
        **links(
            201,
            "The stored pool.",
            GetPool=("get_pool_api_v1_pools__pool_id__get", "pool_id", "pool_id"),
        ),
    },
)
async def upload_pool(
    session: SessionDep,
    user: CurrentUser,
    settings: SettingsDep,
    file: Annotated[UploadFile, File(description="The tape: CSV (with a header row) or Parquet.")],
    name: Annotated[str | None, Form(max_length=200, description="Default: the file name.")] = None,
    column_map: Annotated[
        str | None,
        Form(
            description="JSON object mapping tape columns to engine fields, e.g. "
            '{"CurrentBal": "balance", "NoteRate": "rate", "OrigTerm": "original_term_months"}'
        ),
    ] = None,
    format: Annotated[
        Literal["csv", "parquet"] | None,
        Form(description="Default: detected from the content (Parquet magic) or file name."),
    ] = None,
) -> Response:
    """Validate every row of the tape with the engine (all problems are listed in the 422,
    located as `["body", "file", row, field]`) and store it compactly. Use the returned
    `pool_id` as `{"pool": {"pool_id": ...}}` in POST /api/v1/cashflow/forecast. Columns of
    the asset-class analyses (commercial: property_type, noi, ...; consumer credit: loan_type,
    credit_score, ...) are kept and listed in `kept_columns`; columns that map to no loan field
    are not stored and are listed in `unmapped_columns` (with a warning each)."""
    mapping = _parse_map(column_map)
    pools.check_content_type(file.content_type)
    if file.size is not None and file.size > settings.stream_upload_bytes:
        # a large tape is kept as a file and validated chunk by chunk (origin "tape")
        head = await file.read(4)
        row = await tape_pools.upload_tape_file(
            session,
            owner_id=user.user_id,
            name=name or file.filename or "tape",
            source=file.file,
            fmt=pools.detect_format(head, file.filename, format),
            column_map=mapping,
            settings=settings,
            request_id=get_request_id(),
        )
        return NumpyJSONResponse(
            _out(row), status_code=201, headers={"Location": f"/api/v1/pools/{row.id}"}
        )
    data = await file.read()
    row, report = await pools.upload_pool(
        session,
        owner_id=user.user_id,
        name=name or file.filename or "tape",
        data=data,
        filename=file.filename,
        declared_format=format,
        column_map=mapping,
        settings=settings,
        request_id=get_request_id(),
    )
    out = {
        **_out(row),
        "kept_columns": report.kept_columns,
        "unmapped_columns": report.unmapped_columns,
        "warnings": report.warnings,
    }
    return NumpyJSONResponse(out, status_code=201, headers={"Location": f"/api/v1/pools/{row.id}"})


@router.get("/pools/", response_model=PoolPage, summary="List your uploaded pools")
async def list_pools(
    session: SessionDep,
    user: CurrentUser,
    limit: Annotated[int, Query(ge=1, le=200)] = 20,
    offset: OffsetQuery = 0,
) -> Response:
    """Uploaded tapes, newest first (inline pools of forecasts are not listed)."""
    items, total = await pools.list_pools(
        session, owner_id=user.user_id, limit=limit, offset=offset
    )
    return NumpyJSONResponse(
        {"items": [_out(r) for r in items], "total": total, "limit": limit, "offset": offset}
    )


@router.get("/pools/{pool_id}", response_model=PoolOut, summary="Read a pool's description")
async def get_pool(pool_id: str, session: SessionDep, user: CurrentUser) -> Response:
    """Size, balance and columns of one of your pools (404 for another user's pool)."""
    return NumpyJSONResponse(
        _out(await pools.get_pool(session, owner_id=user.user_id, pool_id=pool_id))
    )
