"""File downloads of every app: one response for an attachment (DESIGN §7: a download is never
shown inline by guessing its type)."""

from __future__ import annotations

from django.http import HttpResponse

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
PDF = "application/pdf"


def attachment(content: bytes, filename: str, content_type: str) -> HttpResponse:
    """A file to save, with ``nosniff`` so that browsers keep the declared type."""
    response = HttpResponse(content, content_type=content_type)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["X-Content-Type-Options"] = "nosniff"
    return response


def xlsx_response(content: bytes, filename: str) -> HttpResponse:
    return attachment(content, filename, XLSX)
