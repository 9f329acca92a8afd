"""The evidence library (DESIGN §7): upload, type checks, duplicates, download, links,
carry-over, deletion, deadlines, permissions and the page's query budget."""

from __future__ import annotations

import datetime
import hashlib
import io
import zipfile
from pathlib import Path
from typing import Any

import pytest
from django.contrib.messages import get_messages
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone, translation
from openpyxl import Workbook

from assessments import evidence, services
from assessments.confirm import CONFIRM_FIELD
from assessments.models import (
    AssessmentState,
    Assignment,
    CriteriaSet,
    Event,
    EventAction,
    Evidence,
    EvidenceLink,
    ItemScore,
    Round,
    Unit,
    UnitAssessment,
)
from tests.conftest import client_for

pytestmark = pytest.mark.django_db

PDF = b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64
OLE2 = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 1024
HTML = b"<!doctype html><html><body><script>alert(1)</script></body></html>"
PREFIX = "tai-lieu"
CONFIRMED = {CONFIRM_FIELD: "1"}
ITEM = "1.1.1"  # a leaf of the departments' reference criteria
OTHER_ITEM = "1.3.1"


def pdf(name: str = "ke-hoach.pdf", extra: bytes = b"") -> SimpleUploadedFile:
    """A small real PDF; ``extra`` makes its content (and SHA-256) distinct."""
    return SimpleUploadedFile(name, PDF + extra, content_type="application/pdf")


def xlsx_bytes() -> bytes:
    buffer = io.BytesIO()
    Workbook().save(buffer)
    return buffer.getvalue()


def zipped(entries: dict[str, str]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, text in entries.items():
            archive.writestr(name, text)
    return buffer.getvalue()


DOCX = zipped({"[Content_Types].xml": "<x/>", "_rels/.rels": "<x/>", "word/document.xml": "<x/>"})
ODT = zipped({"mimetype": evidence.ODT, "content.xml": "<x/>"})


def upload_data(*files: Any, rows: dict[int, dict[str, str]] | None = None) -> dict[str, Any]:
    """The POST of the library's upload form: one row per file, five rows in all."""
    data: dict[str, Any] = {
        f"{PREFIX}-TOTAL_FORMS": "5",
        f"{PREFIX}-INITIAL_FORMS": "0",
        f"{PREFIX}-MIN_NUM_FORMS": "0",
        f"{PREFIX}-MAX_NUM_FORMS": "5",
    }
    for index, upload in enumerate(files):
        data[f"{PREFIX}-{index}-file"] = upload
    for index, fields in (rows or {}).items():
        for name, value in fields.items():
            data[f"{PREFIX}-{index}-{name}"] = value
    return data


def library_url(year: int = 2016, unit: str = "STP") -> str:
    return reverse("evidence_library", args=[year, unit])


def message_texts(response: Any) -> list[str]:
    return [str(m) for m in get_messages(response.wsgi_request)]


@pytest.fixture
def assessment(criteria_sets: dict[str, CriteriaSet], units: dict[str, Unit]) -> UnitAssessment:
    return services.get_or_create_assessment(criteria_sets["SO"].round, units["STP"])


def item(assessment: UnitAssessment, code: str = ITEM) -> ItemScore:
    found = ItemScore.objects.select_related("criterion").get(
        assessment=assessment, criterion__code=code
    )
    found.assessment = assessment
    return found


def add(assessment: UnitAssessment, by: Any, *uploads: Any) -> list[Evidence]:
    result = evidence.add_evidence(assessment, [(u, "", "", None) for u in uploads], by=by)
    return result.created


def submit(assessment: UnitAssessment) -> None:
    # The submission service is written elsewhere; set the state directly.
    UnitAssessment.objects.filter(pk=assessment.pk).update(
        state=AssessmentState.SUBMITTED, submitted_at=timezone.now()
    )


def pass_the_deadline(assessment: UnitAssessment) -> None:
    Round.objects.filter(pk=assessment.round_id).update(
        self_assessment_deadline=timezone.now() - datetime.timedelta(hours=1)
    )


# --- upload ----------------------------------------------------------------------------------


def test_a_focal_officer_uploads_a_pdf_stored_under_a_random_name_with_its_sha256(
    focal: Any, assessment: UnitAssessment, settings: Any
) -> None:
    response = client_for(focal).post(
        library_url(),
        upload_data(
            pdf("Ke hoach CCHC 2016.pdf"),
            rows={0: {"title": "Kế hoạch CCHC năm 2016", "number": "12/KH-STP"}},
        ),
    )
    assert response.status_code == 302 and response.url == library_url()
    document = Evidence.objects.get()
    assert document.sha256 == hashlib.sha256(PDF).hexdigest()
    assert (document.title, document.document_number) == ("Kế hoạch CCHC năm 2016", "12/KH-STP")
    assert document.original_name == "Ke hoach CCHC 2016.pdf"
    assert (document.content_type, document.size, document.uploaded_by) == (
        "application/pdf",
        len(PDF),
        focal,
    )
    stored = Path(document.file.path)
    assert stored.read_bytes() == PDF
    assert "Ke hoach" not in document.file.name and not document.file.name.endswith(".pdf")
    assert stored.is_relative_to(Path(settings.MEDIA_ROOT))
    assert not stored.is_relative_to(Path(settings.BASE_DIR) / "static")
    event = Event.objects.get(action=EventAction.EVIDENCE_ADDED)
    assert (event.actor, event.unit_id, event.round_id) == (
        focal,
        assessment.unit_id,
        assessment.round_id,
    )
    assert event.detail["sha256"] == document.sha256


def test_several_files_are_uploaded_at_once_each_with_its_title_number_and_date(
    leader: Any, assessment: UnitAssessment
) -> None:
    files = [
        pdf("bao-cao_quy_1.pdf"),
        SimpleUploadedFile("anh-niem-yet.png", PNG),
        SimpleUploadedFile("so-lieu.xlsx", xlsx_bytes()),
        SimpleUploadedFile("quyet-dinh.docx", DOCX),
        SimpleUploadedFile("bien-ban.odt", ODT),
    ]
    rows = {
        1: {"title": "Ảnh niêm yết", "number": "", "date": "15/03/2016"},
        2: {"date": "15/04/2016"},
    }
    response = client_for(leader).post(library_url(), upload_data(*files, rows=rows))
    assert response.status_code == 302
    documents = {d.original_name: d for d in Evidence.objects.all()}
    assert len(documents) == 5
    assert documents["bao-cao_quy_1.pdf"].title == "bao-cao quy 1"  # the file name by default
    assert documents["anh-niem-yet.png"].title == "Ảnh niêm yết"
    assert documents["anh-niem-yet.png"].document_date == datetime.date(2016, 3, 15)
    assert documents["so-lieu.xlsx"].document_date == datetime.date(2016, 4, 15)
    assert documents["so-lieu.xlsx"].content_type == evidence.XLSX
    assert documents["anh-niem-yet.png"].content_type == "image/png"
    assert len({d.file.name for d in documents.values()}) == 5
    assert Event.objects.filter(action=EventAction.EVIDENCE_ADDED).count() == 5


def test_the_same_file_uploaded_twice_is_recognised_and_stored_once(
    focal: Any, leader: Any, assessment: UnitAssessment, settings: Any
) -> None:
    add(assessment, leader, pdf("ke-hoach.pdf"))
    response = client_for(focal).post(
        library_url(), upload_data(pdf("ban-sao-ke-hoach.pdf"), pdf("lan-nua.pdf"))
    )
    assert response.status_code == 302
    assert Evidence.objects.count() == 1
    texts = message_texts(response)
    assert any("ban-sao-ke-hoach.pdf" in t and "ke-hoach" in t for t in texts)
    assert any("lan-nua.pdf" in t for t in texts)
    assert len(list((Path(settings.MEDIA_ROOT) / "evidence").rglob("*"))) == 3  # dirs + 1 file
    assert Event.objects.filter(action=EventAction.EVIDENCE_ADDED).count() == 1


def test_the_same_file_twice_in_one_batch_is_stored_once(
    leader: Any, assessment: UnitAssessment
) -> None:
    result = evidence.add_evidence(
        assessment, [(pdf("a.pdf"), "A", "", None), (pdf("b.pdf"), "B", "", None)], by=leader
    )
    assert [d.title for d in result.created] == ["A"]
    assert [(name, d.title) for name, d in result.duplicates] == [("b.pdf", "A")]


def test_an_html_page_named_pdf_is_refused_nothing_is_stored_and_the_typed_text_is_kept(
    focal: Any, assessment: UnitAssessment, settings: Any
) -> None:
    response = client_for(focal).post(
        library_url(),
        upload_data(
            pdf("that-la-pdf.pdf"),
            SimpleUploadedFile("gia-mao.pdf", HTML, content_type="application/pdf"),
            rows={0: {"title": "Tiêu đề đã gõ", "number": "99/BC"}},
        ),
    )
    assert response.status_code == 422
    body = response.content.decode()
    assert "gia-mao.pdf" in body
    assert 'value="Tiêu đề đã gõ"' in body and 'value="99/BC"' in body
    assert not Evidence.objects.exists()
    assert not Event.objects.filter(action=EventAction.EVIDENCE_ADDED).exists()
    assert not (Path(settings.MEDIA_ROOT) / "evidence").exists()


def test_a_file_over_the_size_limit_is_refused(
    focal: Any, assessment: UnitAssessment, settings: Any
) -> None:
    settings.EVIDENCE_MAX_BYTES = 100
    response = client_for(focal).post(library_url(), upload_data(pdf("lon.pdf", b"x" * 200)))
    assert response.status_code == 422
    assert "lon.pdf" in response.content.decode()
    assert not Evidence.objects.exists()


def test_an_upload_without_any_file_asks_for_one(focal: Any, assessment: UnitAssessment) -> None:
    response = client_for(focal).post(library_url(), upload_data(rows={0: {"title": "Chỉ gõ"}}))
    assert response.status_code == 422
    assert 'value="Chỉ gõ"' in response.content.decode()
    assert not Evidence.objects.exists()


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("a.pdf", PDF, "application/pdf"),
        ("A.PDF", PDF, "application/pdf"),
        ("a.docx", DOCX, evidence.DOCX),
        ("a.xlsx", xlsx_bytes(), evidence.XLSX),
        ("a.odt", ODT, evidence.ODT),
        ("a.doc", OLE2, evidence.DOC),
        ("a.xls", OLE2, evidence.XLS),
        ("a.jpg", JPEG, "image/jpeg"),
        ("a.jpeg", JPEG, "image/jpeg"),
        ("a.png", PNG, "image/png"),
        ("a.pdf", HTML, None),  # HTML named .pdf
        ("a.docx", PDF, None),  # a PDF named .docx
        ("a.xlsx", DOCX, None),  # a Word file named .xlsx
        ("a.jpg", PNG, None),
        ("a.doc", PDF, None),
        ("a.pdf", b"MZ\x90\x00" + b"\x00" * 64, None),  # a Windows program
        ("a.docx", zipped({"x.txt": "x"}), None),  # a plain ZIP
        ("a.html", HTML, None),
        ("a.exe", PDF, None),
        ("khong-duoi", PDF, None),
        ("rong.pdf", b"", None),
    ],
)
def test_detect_type_checks_the_content_against_the_name(
    name: str, content: bytes, content_type: str | None
) -> None:
    upload = SimpleUploadedFile(name, content)
    if content_type is None:
        with pytest.raises(services.ServiceError) as refused:
            evidence.detect_type(upload)
        assert name in refused.value.message
    else:
        assert evidence.detect_type(upload).content_type == content_type


def test_the_size_message_says_the_limit_and_what_to_do(settings: Any) -> None:
    settings.EVIDENCE_MAX_BYTES = 1024 * 1024
    with translation.override("en"), pytest.raises(services.ServiceError) as refused:
        evidence.detect_type(SimpleUploadedFile("big.pdf", PDF + b"x" * (2 * 1024 * 1024)))
    assert "the limit is 1 MB" in refused.value.message
    assert "Compress it or split it" in refused.value.message


# --- download --------------------------------------------------------------------------------


def download_url(document: Evidence, unit: str = "STP") -> str:
    return reverse("evidence_download", args=[2016, unit, document.pk])


@pytest.fixture
def document(assessment: UnitAssessment, leader: Any) -> Evidence:
    return add(assessment, leader, pdf("Kế hoạch số 12.pdf"))[0]


def test_a_member_of_the_unit_downloads_a_document_as_an_attachment_with_nosniff(
    contributor: Any, document: Evidence
) -> None:
    response = client_for(contributor).get(download_url(document))
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PDF
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"].startswith("attachment;")
    assert "filename*=utf-8''K%E1%BA%BF" in response["Content-Disposition"]
    assert response["X-Content-Type-Options"] == "nosniff"


def test_another_units_user_gets_404_on_the_library_and_the_download(
    other_unit_focal: Any, document: Evidence
) -> None:
    client = client_for(other_unit_focal)
    assert client.get(download_url(document)).status_code == 404
    assert client.get(library_url()).status_code == 404


def test_a_user_without_a_role_gets_403(no_role_user: Any, document: Evidence) -> None:
    assert client_for(no_role_user).get(download_url(document)).status_code == 403


def test_an_anonymous_visitor_is_sent_to_the_login_page(document: Evidence) -> None:
    for url in (download_url(document), library_url()):
        response = client_for(None).get(url)
        assert response.status_code == 302 and response.url.startswith(reverse("login"))


def test_a_document_of_another_library_is_404_through_the_units_own_address(
    focal: Any, document: Evidence, units: dict[str, Unit], criteria_sets: Any
) -> None:
    # The same id asked under a unit the user belongs to, but the document is not in it.
    Evidence.objects.filter(pk=document.pk).update(unit=units["SYT"])
    assert client_for(focal).get(download_url(document)).status_code == 404


def test_province_staff_read_and_download_but_cannot_write(
    appraiser: Any, document: Evidence, assessment: UnitAssessment
) -> None:
    client = client_for(appraiser)
    response = client.get(library_url())
    assert response.status_code == 200 and document.title in response.content.decode()
    assert client.get(download_url(document)).status_code == 200
    assert client.post(library_url(), upload_data(pdf("x.pdf", b"1"))).status_code == 403
    delete = reverse("evidence_delete", args=[2016, "STP", document.pk])
    assert client.post(delete).status_code == 403
    link = reverse("evidence_link", args=[2016, "STP", ITEM])
    assert client.post(link, {"evidence": document.pk}).status_code == 403
    assert client.get(reverse("evidence_carry_over", args=[2016, "STP"])).status_code == 403
    assert Evidence.objects.count() == 1 and not EvidenceLink.objects.exists()


def test_the_library_lists_documents_with_the_items_they_prove(
    focal: Any, document: Evidence, assessment: UnitAssessment, leader: Any
) -> None:
    evidence.link_evidence(item(assessment), document, "trang 2", by=leader)
    evidence.link_evidence(item(assessment, OTHER_ITEM), document, "", by=leader)
    body = client_for(focal).get(library_url()).content.decode()
    assert document.title in body
    assert reverse("item_edit", args=[2016, "STP", ITEM]) in body
    assert reverse("item_edit", args=[2016, "STP", OTHER_ITEM]) in body
    assert reverse("evidence_delete", args=[2016, "STP", document.pk]) in body


def test_views_refuse_the_wrong_method(focal: Any, document: Evidence) -> None:
    client = client_for(focal)
    assert (
        client.get(reverse("evidence_delete", args=[2016, "STP", document.pk])).status_code == 405
    )
    assert client.get(reverse("evidence_link", args=[2016, "STP", ITEM])).status_code == 405
    assert client.post(download_url(document)).status_code == 405


# --- links -----------------------------------------------------------------------------------


def test_linking_and_unlinking_a_document_with_a_page_reference_writes_events(
    focal: Any, document: Evidence, assessment: UnitAssessment
) -> None:
    client = client_for(focal)
    item_url = reverse("item_edit", args=[2016, "STP", ITEM])
    response = client.post(
        reverse("evidence_link", args=[2016, "STP", ITEM]),
        {"evidence": document.pk, "page_ref": "trang 3–5,  mục II"},
    )
    assert response.status_code == 302 and response.url == item_url
    link = EvidenceLink.objects.get()
    assert (link.evidence, link.item.criterion.code, link.page_ref) == (
        document,
        ITEM,
        "trang 3–5, mục II",
    )
    linked = Event.objects.get(action=EventAction.EVIDENCE_LINKED)
    assert linked.criterion.code == ITEM and linked.actor == focal
    assert linked.detail["page_ref"] == "trang 3–5, mục II"
    response = client.post(reverse("evidence_unlink", args=[2016, "STP", ITEM, link.pk]))
    assert response.status_code == 302 and response.url == item_url
    assert not EvidenceLink.objects.exists()
    assert Evidence.objects.filter(pk=document.pk).exists()
    unlinked = Event.objects.get(action=EventAction.EVIDENCE_UNLINKED)
    assert unlinked.criterion.code == ITEM and unlinked.unit_id == assessment.unit_id


def test_linking_over_htmx_returns_the_fragment_to_swap_in(
    focal: Any, document: Evidence, assessment: UnitAssessment
) -> None:
    client = client_for(focal)
    response = client.post(
        reverse("evidence_link", args=[2016, "STP", ITEM]),
        {"evidence": document.pk, "page_ref": "trang 7"},
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert "<html" not in body and 'hx-swap="outerHTML"' in body
    assert "trang 7" in body and download_url(document) in body
    link = EvidenceLink.objects.get()
    assert reverse("evidence_unlink", args=[2016, "STP", ITEM, link.pk]) in body
    response = client.post(
        reverse("evidence_unlink", args=[2016, "STP", ITEM, link.pk]),
        headers={"HX-Request": "true"},
    )
    assert response.status_code == 200 and "trang 7" not in response.content.decode()


def test_a_link_without_a_chosen_document_is_refused_in_the_fragment(
    focal: Any, document: Evidence
) -> None:
    response = client_for(focal).post(
        reverse("evidence_link", args=[2016, "STP", ITEM]),
        {"evidence": "", "page_ref": "trang 9"},
        headers={"HX-Request": "true"},
    )
    body = response.content.decode()
    assert response.status_code == 200 and 'role="alert"' in body
    assert 'value="trang 9"' in body  # what the user typed is kept
    assert not EvidenceLink.objects.exists()


def test_linking_a_document_again_updates_its_page_reference(
    leader: Any, document: Evidence, assessment: UnitAssessment
) -> None:
    target = item(assessment)
    evidence.link_evidence(target, document, "trang 1", by=leader)
    evidence.link_evidence(target, document, "trang 2", by=leader)
    evidence.link_evidence(target, document, "trang 2", by=leader)  # no change, no event
    assert EvidenceLink.objects.get().page_ref == "trang 2"
    events = Event.objects.filter(action=EventAction.EVIDENCE_LINKED).order_by("pk")
    assert [e.detail.get("old_page_ref") for e in events] == [None, "trang 1"]


def test_a_document_of_another_unit_cannot_be_linked(
    focal: Any, leader: Any, document: Evidence, units: dict[str, Unit], assessment: Any
) -> None:
    Evidence.objects.filter(pk=document.pk).update(unit=units["SYT"])
    response = client_for(focal).post(
        reverse("evidence_link", args=[2016, "STP", ITEM]), {"evidence": document.pk}
    )
    assert response.status_code == 404
    document.refresh_from_db()
    with pytest.raises(services.ServiceError):
        evidence.link_evidence(item(assessment), document, "", by=leader)


def test_a_contributor_links_on_an_assigned_item_but_not_on_another(
    contributor: Any, focal: Any, document: Evidence, assessment: UnitAssessment
) -> None:
    parent = assessment.criteria_set.criteria.get(code="1.1")
    Assignment.objects.create(
        assessment=assessment, criterion=parent, assignee=contributor, assigned_by=focal
    )
    client = client_for(contributor)
    assigned = client.post(
        reverse("evidence_link", args=[2016, "STP", ITEM]), {"evidence": document.pk}
    )
    assert assigned.status_code == 302
    refused = client.post(
        reverse("evidence_link", args=[2016, "STP", OTHER_ITEM]), {"evidence": document.pk}
    )
    assert refused.status_code == 403
    assert [link.item.criterion.code for link in EvidenceLink.objects.all()] == [ITEM]
    other = evidence.link_evidence(item(assessment, OTHER_ITEM), document, "", by=focal)
    response = client.post(reverse("evidence_unlink", args=[2016, "STP", OTHER_ITEM, other.pk]))
    assert response.status_code == 403 and EvidenceLink.objects.count() == 2


def test_a_contributor_uploads_but_cannot_delete_or_carry_over(
    contributor: Any, assessment: UnitAssessment
) -> None:
    client = client_for(contributor)
    assert client.post(library_url(), upload_data(pdf("cv.pdf"))).status_code == 302
    document = Evidence.objects.get()
    assert document.uploaded_by == contributor
    delete = reverse("evidence_delete", args=[2016, "STP", document.pk])
    assert client.post(delete).status_code == 403
    assert client.post(reverse("evidence_carry_over", args=[2016, "STP"])).status_code == 403
    assert Evidence.objects.count() == 1


# --- delete, submission, deadline --------------------------------------------------------------


def test_deleting_a_document_removes_its_links_and_its_file(
    focal: Any,
    leader: Any,
    document: Evidence,
    assessment: UnitAssessment,
    django_capture_on_commit_callbacks: Any,
) -> None:
    evidence.link_evidence(item(assessment), document, "trang 1", by=leader)
    path = Path(document.file.path)
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(focal).post(
            reverse("evidence_delete", args=[2016, "STP", document.pk]), CONFIRMED
        )
    assert response.status_code == 302 and response.url == library_url()
    assert not Evidence.objects.exists() and not EvidenceLink.objects.exists()
    assert not path.exists()
    event = Event.objects.get(action=EventAction.EVIDENCE_DELETED)
    assert event.detail["unlinked"] == [ITEM] and event.actor == focal


def test_a_document_linked_to_a_submitted_item_cannot_be_deleted(
    focal: Any, leader: Any, document: Evidence, assessment: UnitAssessment
) -> None:
    evidence.link_evidence(item(assessment), document, "", by=leader)
    submit(assessment)
    response = client_for(focal).post(
        reverse("evidence_delete", args=[2016, "STP", document.pk]), CONFIRMED
    )
    assert response.status_code == 302
    assert Evidence.objects.filter(pk=document.pk).exists() and EvidenceLink.objects.exists()
    assert not Event.objects.filter(action=EventAction.EVIDENCE_DELETED).exists()
    with translation.override("en"), pytest.raises(services.ServiceError) as refused:
        evidence.delete_evidence(document, by=leader)
    assert ITEM in refused.value.message and "cannot be deleted" in refused.value.message


def test_an_unlinked_document_cannot_be_deleted_after_submission_either(
    leader: Any, document: Evidence, assessment: UnitAssessment
) -> None:
    submit(assessment)
    with pytest.raises(services.ServiceError):
        evidence.delete_evidence(document, by=leader)
    assert Evidence.objects.filter(pk=document.pk).exists()


def test_every_write_after_the_deadline_is_refused_even_as_a_direct_post(
    focal: Any, leader: Any, document: Evidence, assessment: UnitAssessment, last_year: Any
) -> None:
    link = evidence.link_evidence(item(assessment), document, "trang 1", by=leader)
    events = Event.objects.count()
    pass_the_deadline(assessment)
    client = client_for(focal)
    posts = [
        (library_url(), upload_data(pdf("muon.pdf", b"late"))),
        (reverse("evidence_delete", args=[2016, "STP", document.pk]), CONFIRMED),
        (reverse("evidence_link", args=[2016, "STP", OTHER_ITEM]), {"evidence": document.pk}),
        (reverse("evidence_unlink", args=[2016, "STP", ITEM, link.pk]), {}),
        (reverse("evidence_carry_over", args=[2016, "STP"]), {"evidence": [last_year[0].pk]}),
    ]
    for url, data in posts:
        response = client.post(url, data)
        assert response.status_code == 302, url
        assert message_texts(response), url  # the user is told why
    assert list(Evidence.objects.filter(round__year=2016)) == [document]
    assert list(EvidenceLink.objects.all()) == [link]
    assert Event.objects.count() == events
    body = client.get(library_url()).content.decode()
    assert reverse("evidence_delete", args=[2016, "STP", document.pk]) not in body
    assert f'name="{PREFIX}-0-file"' not in body


# --- carry-over ------------------------------------------------------------------------------


@pytest.fixture
def last_year(units: dict[str, Unit], leader: Any) -> list[Evidence]:
    """Round 2015, closed, with three documents of STP and one of another unit."""
    round_2015 = Round.objects.create(
        year=2015,
        opens_at=timezone.now() - datetime.timedelta(days=400),
        self_assessment_deadline=timezone.now() - datetime.timedelta(days=300),
    )

    def old(unit: Unit, title: str, content: bytes) -> Evidence:
        name = default_storage.save(f"evidence/2015/{unit.code}/{title}", io.BytesIO(content))
        return Evidence.objects.create(
            unit=unit,
            round=round_2015,
            file=name,
            original_name=f"{title}.pdf",
            title=title,
            document_number=f"{title}/QĐ",
            size=len(content),
            content_type="application/pdf",
            sha256=hashlib.sha256(content).hexdigest(),
            uploaded_by=leader,
        )

    return [
        old(units["STP"], "Quy che", PDF + b"1"),
        old(units["STP"], "Quy dinh", PDF + b"2"),
        old(units["STP"], "Ke hoach", PDF),  # the same file as the ``document`` fixture
        old(units["SYT"], "Cua don vi khac", PDF + b"3"),
    ]


def test_last_years_documents_are_carried_over_pointing_at_the_same_file(
    focal: Any,
    document: Evidence,
    last_year: list[Evidence],
    assessment: UnitAssessment,
    django_capture_on_commit_callbacks: Any,
) -> None:
    client = client_for(focal)
    page = client.get(reverse("evidence_carry_over", args=[2016, "STP"]))
    body = page.content.decode()
    assert page.status_code == 200
    assert "Quy che" in body and "Cua don vi khac" not in body
    chosen = [e.pk for e in last_year]  # includes the other unit's and an already present one
    response = client.post(reverse("evidence_carry_over", args=[2016, "STP"]), {"evidence": chosen})
    assert response.status_code == 302 and response.url == library_url()
    carried = Evidence.objects.filter(round__year=2016, carried_from__isnull=False).order_by(
        "title"
    )
    assert [(e.title, e.carried_from) for e in carried] == [
        ("Quy che", last_year[0]),
        ("Quy dinh", last_year[1]),
    ]
    assert [e.file.name for e in carried] == [last_year[0].file.name, last_year[1].file.name]
    assert all(e.unit_id == assessment.unit_id and e.uploaded_by == focal for e in carried)
    assert (
        Event.objects.filter(action=EventAction.EVIDENCE_ADDED, detail__from_year=2015).count() == 2
    )
    assert any("Ke hoach" in t for t in message_texts(response))  # skipped: already here
    # Carrying again copies nothing; deleting a copy keeps last year's file.
    again = evidence.carry_over(assessment, chosen, by=focal)
    assert again.created == [] and len(again.skipped) == 3
    with django_capture_on_commit_callbacks(execute=True):
        evidence.delete_evidence(carried[0], by=focal)
    assert default_storage.exists(last_year[0].file.name)


def test_carry_over_without_a_choice_is_refused(focal: Any, assessment: UnitAssessment) -> None:
    with pytest.raises(services.ServiceError):
        evidence.carry_over(assessment, [], by=focal)
    response = client_for(focal).post(reverse("evidence_carry_over", args=[2016, "STP"]), {})
    assert response.status_code == 302 and message_texts(response)


# --- query budget ----------------------------------------------------------------------------


def library_queries(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(library_url())
    assert response.status_code == 200
    return len(queries)


def test_the_library_page_makes_as_many_queries_for_15_documents_as_for_3(
    focal: Any, leader: Any, assessment: UnitAssessment, last_year: list[Evidence]
) -> None:
    leaves = list(ItemScore.objects.filter(assessment=assessment).select_related("criterion")[:5])

    def add_documents(start: int, count: int) -> None:
        for n in range(start, start + count):
            document = add(assessment, leader, pdf(f"tl-{n}.pdf", f"doc {n}".encode()))[0]
            for leaf in leaves[: n % 3 + 1]:
                leaf.assessment = assessment
                evidence.link_evidence(leaf, document, f"trang {n}", by=leader)

    evidence.carry_over(assessment, [last_year[0].pk], by=leader)
    add_documents(0, 2)
    client = client_for(focal)
    few = library_queries(client)
    add_documents(2, 12)
    many = library_queries(client)
    assert Evidence.objects.filter(round__year=2016).count() == 15
    assert many == few, f"{few} queries for 3 documents, {many} for 15"
