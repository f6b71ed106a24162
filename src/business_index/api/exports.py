"""Downloads of the index's extracts (``bx export``'s) as CSV, Parquet or GeoJSON: ``read`` for
records, establishments, organisations and properties; ``review`` for quarantined rows and
unmatched records, which hold names and rows as written."""

from __future__ import annotations

import tempfile
from pathlib import Path as FilePath
from typing import Annotated

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import FileResponse, Response
from starlette.background import BackgroundTask

from business_index.api.auth import AuthError
from business_index.api.common import BadRequest, Services, caller, error_responses, guarded
from business_index.store.export import EXPORTS, FORMATS, PERSONAL, ExportFormat, export_file

MEDIA = {"csv": "text/csv; charset=utf-8", "parquet": "application/vnd.apache.parquet",
         "geojson": "application/geo+json"}


def router_for(services: Services) -> APIRouter:
    router = APIRouter()

    @router.get("/api/v1/exports/{what}", response_class=FileResponse, responses={
        200: {"description": "The extract as a file", "content": {m: {} for m in MEDIA.values()}},
        **error_responses()}, **guarded(services, "read", "review", params=("format",)))
    def download(request: Request, what: Annotated[str, Path(max_length=32)],
                 format: Annotated[ExportFormat, Query()] = "csv") -> Response:  # noqa: A002 - the usual name
        """One of ``bx export``'s extracts (records, establishments, organisations, properties;
        with ``review`` also quarantine and unmatched) as CSV, Parquet or GeoJSON (WGS84 points for
        records, establishments and properties)."""
        if what not in EXPORTS:
            raise BadRequest("what", f"unknown export; choose one of {', '.join(EXPORTS)}")
        if what in PERSONAL and not caller(request).sees_personal_data:
            raise AuthError(403, f"{what} holds personal data: it needs the review scope")
        if format not in FORMATS:
            raise BadRequest("format", "choose csv, parquet or geojson")
        folder = FilePath(tempfile.mkdtemp(prefix="bx-export-"))
        out = folder / f"{what}.{format}"
        try:
            export_file(services.reader.local_index(), what, out, format)
        except ValueError as exc:
            _remove(folder)
            raise BadRequest("format", str(exc)) from None
        return FileResponse(out, media_type=MEDIA[format], filename=out.name, background=BackgroundTask(_remove, folder))

    return router


def _remove(folder: FilePath) -> None:
    for child in folder.iterdir():
        child.unlink(missing_ok=True)
    folder.rmdir()
