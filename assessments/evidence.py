"""The evidence library of a unit in a round (DESIGN §3 Evidence, §7): every write to it.

A document belongs to one unit's library in one round and can prove several items of that
unit's assessment, each link with a page reference. Files are stored under random names
(``models.evidence_path``) and recognised by their SHA-256, so the same file uploaded twice to
one library is stored once. Every write here locks the unit's assessment with
``services.lock_for_write``, so nothing changes after submission or the deadline, and the row
lock also serialises two uploads of the same file (the unique constraint never fires in
practice).
"""

from __future__ import annotations

import datetime
import hashlib
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import TYPE_CHECKING

import filetype
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.db.models import Count, Prefetch, QuerySet
from django.utils import timezone
from django.utils.formats import number_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .models import (
    AssessmentState,
    Event,
    EventAction,
    Evidence,
    EvidenceLink,
    ItemScore,
    Round,
    UnitAssessment,
)
from .services import ServiceError, lacks_evidence, lock_for_upload, lock_for_write

if TYPE_CHECKING:
    from django.contrib.auth.models import User
    from django.core.files.uploadedfile import UploadedFile

DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
ODT = "application/vnd.oasis.opendocument.text"
ODS = "application/vnd.oasis.opendocument.spreadsheet"
DOC = "application/msword"
XLS = "application/vnd.ms-excel"

# Accepted extensions (DESIGN §7: PDF, Word, Excel, OpenDocument, JPEG, PNG) → the content
# kind the file must have and the type it is served with. The served type comes from this
# table, never from what the browser claimed.
ACCEPTED: dict[str, tuple[str, str]] = {
    "pdf": ("pdf", "application/pdf"),
    "docx": ("docx", DOCX),
    "xlsx": ("xlsx", XLSX),
    "odt": ("odt", ODT),
    "ods": ("ods", ODS),
    "doc": ("ole2", DOC),
    "xls": ("ole2", XLS),
    "jpg": ("jpg", "image/jpeg"),
    "jpeg": ("jpg", "image/jpeg"),
    "png": ("png", "image/png"),
}
# Legacy .doc and .xls files are OLE2 compound files (header D0 CF 11 E0 A1 B1 1A E1). Offices
# still produce many of them, so they are accepted. What an OLE2 file holds cannot be told
# reliably from its first bytes (filetype's Word/Excel/PowerPoint tests look at one sector whose
# place varies between writers, and its PowerPoint test also matches some Excel files), so any
# OLE2 file is accepted under .doc or .xls rather than refusing real office files. The risk is
# small: the download is always an attachment with nosniff, never rendered by the browser.
OLE2_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
ZIP_MAGIC = b"PK\x03\x04"
KIND_LABELS = {
    "pdf": "PDF",
    "docx": "Word (.docx)",
    "xlsx": "Excel (.xlsx)",
    "odt": "OpenDocument (.odt)",
    "ods": "OpenDocument (.ods)",
    "ole2": "Word/Excel 97–2003 (.doc, .xls)",
    "jpg": "JPEG",
    "png": "PNG",
}
HEAD_BYTES = 8192  # as many as filetype reads
MAX_PAGE_REF = 200
MAX_TITLE = 500
MAX_NUMBER = 100


@dataclass(frozen=True)
class DetectedType:
    extension: str
    content_type: str


def accepted_types_sentence() -> str:
    return _(
        "Upload PDF, Word (.doc, .docx), Excel (.xls, .xlsx), OpenDocument (.odt, .ods), JPEG or PNG files."
    )


def megabytes(size: int) -> str:
    """Megabytes with one decimal in the user's format ("20", "20,5")."""
    value = round(size / (1024 * 1024), 1)
    return str(int(value)) if value == int(value) else number_format(value, 1)


def zip_kind(upload: UploadedFile) -> str | None:
    """The office format of a ZIP container, read from its directory (any entry order)."""
    upload.seek(0)
    try:
        with zipfile.ZipFile(upload) as archive:
            names = set(archive.namelist())
            if "mimetype" in names:
                with archive.open("mimetype") as entry:  # read a little: it may be a bomb
                    mimetype = entry.read(100).decode("ascii", "replace").strip()
                return {ODT: "odt", ODS: "ods"}.get(mimetype)
    except (zipfile.BadZipFile, OSError, ValueError):
        return None
    finally:
        upload.seek(0)
    if "word/document.xml" in names:
        return "docx"
    if "xl/workbook.xml" in names:
        return "xlsx"
    return None


def content_kind(upload: UploadedFile, head: bytes) -> str | None:
    """What the bytes are, whatever the name says: a key of ``KIND_LABELS``, another filetype
    extension, or ``None`` when nothing is recognised (text, HTML, scripts …)."""
    if head.startswith(OLE2_MAGIC):
        return "ole2"
    guess = filetype.guess(head)
    kind = guess.extension if guess is not None else None
    if kind == "jpeg":
        kind = "jpg"
    if head.startswith(ZIP_MAGIC) and kind not in ("docx", "xlsx", "odt", "ods"):
        # filetype only looks at the first entries; Office files written by other tools may
        # order them differently, so ask the ZIP directory.
        kind = zip_kind(upload) or kind
    return kind


def detect_type(upload: UploadedFile) -> DetectedType:
    """Check one uploaded file by its content, its name and its size (DESIGN §7).

    The extension must be an accepted one *and* agree with the content, so an HTML page named
    ``.pdf`` is refused. Raises ``ServiceError`` naming the file and saying what to do.
    """
    name = upload.name or ""
    extension = PurePath(name).suffix.lower().lstrip(".")
    if extension not in ACCEPTED:
        raise ServiceError(
            _("“%(name)s” is not an accepted type of document. %(accepted)s")
            % {"name": name, "accepted": accepted_types_sentence()}
        )
    size = upload.size or 0
    if size == 0:
        raise ServiceError(_("“%(name)s” is empty. Choose the file again.") % {"name": name})
    limit = settings.EVIDENCE_MAX_BYTES
    if size > limit:
        raise ServiceError(
            _(
                "“%(name)s” is %(size)s MB; the limit is %(limit)s MB per file. Compress it or split it into several files, then upload again."
            )
            % {"name": name, "size": megabytes(size), "limit": megabytes(limit)}
        )
    upload.seek(0)
    head = upload.read(HEAD_BYTES)
    upload.seek(0)
    expected, content_type = ACCEPTED[extension]
    actual = content_kind(upload, head)
    if actual != expected:
        if actual in KIND_LABELS:
            raise ServiceError(
                _(
                    "“%(name)s” is named .%(extension)s but its content is a %(actual)s file. Rename it with the right extension or choose the right file."
                )
                % {"name": name, "extension": extension, "actual": KIND_LABELS[actual]}
            )
        raise ServiceError(
            _(
                "The content of “%(name)s” is not a %(expected)s file, whatever its name says. Open it, save it again as %(expected)s (or as PDF) and upload it again."
            )
            % {"name": name, "expected": KIND_LABELS[expected]}
        )
    return DetectedType(extension, content_type)


def sha256_of(upload: UploadedFile) -> str:
    digest = hashlib.sha256()
    upload.seek(0)
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return digest.hexdigest()


def default_title(file_name: str) -> str:
    """The file name without its extension, as people name their scans."""
    stem = PurePath(file_name).stem.replace("_", " ").strip()
    return (stem or file_name)[:MAX_TITLE]


@dataclass(frozen=True)
class Upload:
    """One file to add, with what the user typed for it."""

    file: UploadedFile
    title: str = ""
    number: str = ""
    date: datetime.date | None = None


@dataclass
class AddResult:
    created: list[Evidence] = field(default_factory=list)
    # (the uploaded file's name, the document already in the library with the same content)
    duplicates: list[tuple[str, Evidence]] = field(default_factory=list)


class UploadRefused(ServiceError):
    """Some files cannot be accepted; ``problems`` maps each one's position to the reason.

    Nothing is stored when one file is refused: the user corrects it and sends the batch again.
    """

    def __init__(self, message: str, problems: dict[int, str]) -> None:
        super().__init__(message)
        self.problems = problems


def as_upload(entry: Upload | tuple) -> Upload:
    return entry if isinstance(entry, Upload) else Upload(*entry)


def evidence_detail(evidence: Evidence) -> dict[str, object]:
    return {
        "evidence": evidence.pk,
        "title": evidence.title,
        "file_name": evidence.original_name,
        "size": evidence.size,
        "sha256": evidence.sha256,
    }


@transaction.atomic
def add_evidence(
    assessment: UnitAssessment, uploads: Sequence[Upload | tuple], *, by: User
) -> AddResult:
    """Store new documents in the library of the assessment's unit and round.

    ``uploads`` holds ``Upload`` values or ``(file, title, number, date)`` tuples. Every file is
    checked first (``detect_type``); if any is refused, ``UploadRefused`` lists them all and
    nothing is stored. A file whose SHA-256 is already in the library (or earlier in the same
    batch) is not stored again: the existing document is returned in ``duplicates``.
    """
    if not uploads:
        raise ServiceError(_("Choose at least one file to upload."))
    locked = lock_for_upload(assessment)
    entries = [as_upload(entry) for entry in uploads]
    problems: dict[int, str] = {}
    checked: list[tuple[Upload, DetectedType, str]] = []  # (entry, type, SHA-256)
    for index, entry in enumerate(entries):
        try:
            detected = detect_type(entry.file)
        except ServiceError as error:
            problems[index] = error.message
            continue
        title = " ".join(entry.title.split()) or default_title(entry.file.name or "")
        number = entry.number.strip()
        if len(title) > MAX_TITLE or len(number) > MAX_NUMBER:
            problems[index] = _(
                "The title of “%(name)s” may have at most %(title)s characters and its number at most %(number)s."
            ) % {"name": entry.file.name, "title": MAX_TITLE, "number": MAX_NUMBER}
            continue
        checked.append(
            (Upload(entry.file, title, number, entry.date), detected, sha256_of(entry.file))
        )
    if problems:
        raise UploadRefused(
            ngettext(
                "Nothing was uploaded: %(count)s file cannot be accepted. Correct it and upload again.",
                "Nothing was uploaded: %(count)s files cannot be accepted. Correct them and upload again.",
                len(problems),
            )
            % {"count": len(problems)},
            problems,
        )
    existing = {
        e.sha256: e
        for e in Evidence.objects.filter(
            unit_id=locked.unit_id,
            round_id=locked.round_id,
            sha256__in=[digest for _entry, _detected, digest in checked],
        )
    }
    result = AddResult()
    stored: list[str] = []
    try:
        for entry, detected, digest in checked:
            if digest in existing:
                result.duplicates.append((entry.file.name or "", existing[digest]))
                continue
            evidence = Evidence(
                unit_id=locked.unit_id,
                round_id=locked.round_id,
                original_name=(entry.file.name or "")[:255],
                title=entry.title,
                document_number=entry.number,
                document_date=entry.date,
                size=entry.file.size or 0,
                content_type=detected.content_type,
                sha256=digest,
                uploaded_by=by,
                uploaded_at=timezone.now(),
            )
            # upload_to reads the round's year and the unit's code (both already loaded).
            evidence.round = locked.round
            evidence.unit = assessment.unit
            evidence.file.save(entry.file.name or "evidence", entry.file, save=False)
            stored.append(evidence.file.name)
            evidence.save()
            existing[digest] = evidence
            result.created.append(evidence)
            Event.objects.create(
                actor=by,
                action=EventAction.EVIDENCE_ADDED,
                round_id=locked.round_id,
                unit_id=locked.unit_id,
                detail=evidence_detail(evidence),
            )
    except BaseException:
        # The rows roll back with the transaction; the files written so far must go too.
        for name in stored:
            default_storage.delete(name)
        raise
    return result


def delete_stored_file_unless_shared(name: str) -> None:
    """A carried-over document shares its file with last year's row: keep it while any row
    still names it. Runs after the commit, so a rollback never loses a file."""
    if not Evidence.objects.filter(file=name).exists():
        default_storage.delete(name)


@transaction.atomic
def delete_evidence(evidence: Evidence, *, by: User) -> None:
    """Remove a document from its library, and its links to items of the draft assessment.

    Refused when it proves an item of an assessment that is no longer a draft (the secretariat
    is appraising with it), and refused like every unit write once the assessment is locked.
    """
    assessment = UnitAssessment.objects.filter(
        unit_id=evidence.unit_id, round_id=evidence.round_id
    ).first()
    if assessment is None:  # pragma: no cover - a library exists only beside its assessment
        raise ServiceError(_("This document does not belong to a self-assessment."))
    links = list(
        EvidenceLink.objects.filter(evidence=evidence)
        .select_related("item__assessment", "item__criterion")
        .order_by("item__criterion__position")
    )
    submitted = [
        link.item.criterion.code
        for link in links
        if link.item.assessment.state != AssessmentState.DRAFT
    ]
    if submitted:
        raise ServiceError(
            _(
                "“%(title)s” proves items %(codes)s of a submitted self-assessment and cannot be deleted."
            )
            % {"title": evidence.title, "codes": ", ".join(submitted)}
        )
    locked = lock_for_write(assessment)
    # Re-read under the lock: a link may have been added since the page was loaded.
    codes = list(
        EvidenceLink.objects.filter(evidence=evidence)
        .order_by("item__criterion__position")
        .values_list("item__criterion__code", flat=True)
    )
    EvidenceLink.objects.filter(evidence=evidence).delete()
    name = evidence.file.name
    detail = {**evidence_detail(evidence), "unlinked": codes}
    Evidence.objects.filter(pk=evidence.pk).delete()
    Event.objects.create(
        actor=by,
        action=EventAction.EVIDENCE_DELETED,
        round_id=locked.round_id,
        unit_id=locked.unit_id,
        detail=detail,
    )
    transaction.on_commit(lambda: delete_stored_file_unless_shared(name))


def clean_page_ref(page_ref: str) -> str:
    text = " ".join(page_ref.split())
    if len(text) > MAX_PAGE_REF:
        raise ServiceError(
            _("The page reference may have at most %(count)s characters; shorten it.")
            % {"count": MAX_PAGE_REF}
        )
    return text


@transaction.atomic
def link_evidence(item: ItemScore, evidence: Evidence, page_ref: str, *, by: User) -> EvidenceLink:
    """Link a library document to an item with a page reference ("trang 3–5, mục II").

    Linking a document that is already linked updates its page reference.
    """
    locked = lock_for_write(item.assessment)
    if evidence.unit_id != locked.unit_id or evidence.round_id != locked.round_id:
        raise ServiceError(
            _("This document is not in the unit's library for this round; choose another one.")
        )
    page_ref = clean_page_ref(page_ref)
    link = EvidenceLink.objects.filter(evidence=evidence, item=item).first()
    old_page_ref = None
    if link is None:
        link = EvidenceLink.objects.create(evidence=evidence, item=item, page_ref=page_ref)
    elif link.page_ref != page_ref:
        old_page_ref = link.page_ref
        link.page_ref = page_ref
        link.save(update_fields=["page_ref"])
    else:
        return link  # nothing changed, nothing to record
    detail: dict[str, object] = {
        "evidence": evidence.pk,
        "title": evidence.title,
        "page_ref": page_ref,
    }
    if old_page_ref is not None:
        detail["old_page_ref"] = old_page_ref
    Event.objects.create(
        actor=by,
        action=EventAction.EVIDENCE_LINKED,
        round_id=locked.round_id,
        unit_id=locked.unit_id,
        criterion_id=item.criterion_id,
        detail=detail,
    )
    return link


@transaction.atomic
def unlink_evidence(link: EvidenceLink, *, by: User) -> None:
    """Remove a document from an item; the document stays in the library."""
    locked = lock_for_write(link.item.assessment)
    detail = {"evidence": link.evidence_id, "title": link.evidence.title, "page_ref": link.page_ref}
    EvidenceLink.objects.filter(pk=link.pk).delete()
    Event.objects.create(
        actor=by,
        action=EventAction.EVIDENCE_UNLINKED,
        round_id=locked.round_id,
        unit_id=locked.unit_id,
        criterion_id=link.item.criterion_id,
        detail=detail,
    )


def library(assessment: UnitAssessment) -> QuerySet[Evidence]:
    """The documents of the assessment's unit and round with what the library page shows:
    uploader, the round carried from, and every link with its item's code (three queries,
    whatever the number of documents)."""
    return (
        Evidence.objects.filter(unit_id=assessment.unit_id, round_id=assessment.round_id)
        .select_related("uploaded_by", "carried_from__round")
        .prefetch_related(
            Prefetch(
                "links",
                queryset=EvidenceLink.objects.select_related("item__criterion").order_by(
                    "item__criterion__position"
                ),
            )
        )
        .order_by("-uploaded_at", "-pk")
    )


def previous_round(round_: Round) -> Round | None:
    """The latest round before this one: where last year's documents are."""
    return Round.objects.filter(year__lt=round_.year).order_by("-year").first()


@dataclass
class CarryResult:
    created: list[Evidence] = field(default_factory=list)
    skipped: list[Evidence] = field(default_factory=list)  # already in this year's library


@transaction.atomic
def carry_over(assessment: UnitAssessment, evidence_ids: Iterable[int], *, by: User) -> CarryResult:
    """Copy documents of the unit's library of the previous round into this round's library.

    The copies point at the same stored file (nothing is written to disk) and remember where
    they came from (``carried_from``). A document whose file is already in this year's library
    (carried before, or uploaded again) is skipped. Ids outside last year's library of the
    unit are ignored.
    """
    locked = lock_for_write(assessment)
    source_round = previous_round(assessment.round)
    ids = {int(pk) for pk in evidence_ids}
    if not ids:
        raise ServiceError(_("Choose at least one of last year's documents to carry over."))
    sources = (
        list(
            Evidence.objects.filter(
                pk__in=ids, unit_id=locked.unit_id, round=source_round
            ).order_by("title", "pk")
        )
        if source_round is not None
        else []
    )
    if not sources:
        raise ServiceError(
            _("None of the chosen documents is in last year's library of the unit; choose again.")
        )
    present = set(
        Evidence.objects.filter(
            unit_id=locked.unit_id,
            round_id=locked.round_id,
            sha256__in=[s.sha256 for s in sources],
        ).values_list("sha256", flat=True)
    )
    result = CarryResult()
    now = timezone.now()
    from_year = source_round.year if source_round is not None else None
    for source in sources:
        if source.sha256 in present:
            result.skipped.append(source)
            continue
        copy = Evidence.objects.create(
            unit_id=locked.unit_id,
            round_id=locked.round_id,
            file=source.file.name,
            original_name=source.original_name,
            title=source.title,
            document_number=source.document_number,
            document_date=source.document_date,
            size=source.size,
            content_type=source.content_type,
            sha256=source.sha256,
            carried_from=source,
            uploaded_by=by,
            uploaded_at=now,
        )
        present.add(source.sha256)
        result.created.append(copy)
        Event.objects.create(
            actor=by,
            action=EventAction.EVIDENCE_ADDED,
            round_id=locked.round_id,
            unit_id=locked.unit_id,
            detail={**evidence_detail(copy), "carried_from": source.pk, "from_year": from_year},
        )
    return result


# --- loaders of the evidence pages (one query each) --------------------------------------------


def library_of(assessment: UnitAssessment) -> list[Evidence]:
    """The documents of the unit's library for the assessment's round, by title."""
    return list(
        Evidence.objects.filter(unit_id=assessment.unit_id, round_id=assessment.round_id).order_by(
            "title", "pk"
        )
    )


def links_of(item: ItemScore) -> list[EvidenceLink]:
    """The documents linked to an item, with their pages, by title."""
    return list(
        EvidenceLink.objects.filter(item=item)
        .select_related("evidence")
        .order_by("evidence__title", "pk")
    )


def carry_over_choices(
    assessment: UnitAssessment, source_round: Round | None
) -> tuple[list[Evidence], set[str]]:
    """Last year's documents of the unit, and the SHA-256 of those already in this year's
    library (two queries)."""
    if source_round is None:
        return [], set()
    documents = list(
        Evidence.objects.filter(unit_id=assessment.unit_id, round=source_round).order_by(
            "title", "pk"
        )
    )
    present = set(
        Evidence.objects.filter(
            unit_id=assessment.unit_id, round_id=assessment.round_id
        ).values_list("sha256", flat=True)
    )
    return documents, present


def documents_of(assessment: UnitAssessment, pks: list[int]) -> QuerySet[Evidence]:
    """The documents of ``pks`` that belong to the assessment's library (others are ignored)."""
    return Evidence.objects.filter(
        unit_id=assessment.unit_id, round_id=assessment.round_id, pk__in=pks
    )


@dataclass(frozen=True)
class LostLink:
    """An item that loses ``evidence`` when it is deleted (the deletion's confirmation)."""

    code: str
    title: str
    left: int  # documents still linked to the item afterwards
    then_lacks: bool  # §7: the item would then stop the submission


def deletion_impact(evidence: Evidence) -> list[LostLink]:
    """The items linked to ``evidence``, in tree order, with what they keep afterwards
    (two queries; "lacks evidence" is :func:`services.lacks_evidence`)."""
    items = (
        ItemScore.objects.filter(
            pk__in=EvidenceLink.objects.filter(evidence=evidence).values("item_id")
        )
        .select_related("criterion")
        .annotate(n=Count("evidence_links"))
        .order_by("criterion__position")
    )
    lost = []
    for item in items:
        left = item.n - 1
        lost.append(
            LostLink(
                item.criterion.code,
                item.criterion.title,
                left,
                lacks_evidence(item.criterion, item, left),
            )
        )
    return lost
