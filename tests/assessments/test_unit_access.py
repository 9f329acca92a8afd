"""Who reads a unit's data (DESIGN §6): council members only once the unit is appraised —
never a draft, never during appraisal; the chair, the secretariat lead and appraisers follow
it in every state; other units never."""

from __future__ import annotations

from typing import Any

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse

from assessments import evidence
from assessments import services as unit_services
from assessments.models import AssessmentState, Round, UnitAssessment
from demo.builders import tiny_pdf
from tests.builders import appraised, submitted
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


@pytest.fixture
def draft(criteria_sets: Any, units: Any, open_round: Round, focal: Any) -> UnitAssessment:
    assessment = unit_services.get_or_create_assessment(open_round, units["STP"])
    upload = SimpleUploadedFile("qd.pdf", tiny_pdf("Quyet dinh"), content_type="application/pdf")
    result = evidence.add_evidence(
        assessment, [(upload, "Quyết định kế hoạch CCHC", "", None)], by=focal
    )
    assessment.evidence_pk = result.created[0].pk  # type: ignore[attr-defined]
    return assessment


def unit_pages(assessment: Any) -> list[str]:
    args = [assessment.round.year, assessment.unit.code]
    return [
        reverse("unit_workspace", args=args),
        reverse("item_edit", args=[*args, "1.1.1"]),
        reverse("evidence_library", args=args),
        reverse("evidence_download", args=[*args, assessment.evidence_pk]),
        reverse("evidence_download", args=[*args, assessment.evidence_pk]) + "?xem=1",
        reverse("unit_workbook_download", args=args),
        reverse("pdf_self_assessment", args=args),
    ]


def test_a_council_member_cannot_read_a_draft(draft: UnitAssessment, council_member: Any) -> None:
    client = client_for(council_member)
    for url in unit_pages(draft):
        assert client.get(url).status_code == 403, url
    # In the portal's layout, in Vietnamese, saying why and what to do.
    page = client.get(unit_pages(draft)[0]).content.decode()
    assert "Bạn không được mở trang này" in page
    assert "khi đơn vị đã được thẩm định xong" in page
    assert 'href="/"' in page


def test_a_council_member_cannot_read_a_unit_during_appraisal(
    draft: UnitAssessment, council_member: Any, leader: Any
) -> None:
    assessment = submitted(draft, leader)
    assessment.evidence_pk = draft.evidence_pk  # type: ignore[attr-defined]
    assert assessment.state == AssessmentState.SUBMITTED
    client = client_for(council_member)
    for url in unit_pages(assessment):
        assert client.get(url).status_code == 403, url


def test_a_council_member_reads_the_same_unit_once_it_is_appraised(
    draft: UnitAssessment,
    council_member: Any,
    leader: Any,
    appraiser: Any,
    secretariat_lead: Any,
) -> None:
    assessment = appraised(submitted(draft, leader), appraiser, secretariat_lead)
    assessment.evidence_pk = draft.evidence_pk  # type: ignore[attr-defined]
    assert assessment.state == AssessmentState.APPRAISED
    client = client_for(council_member)
    for url in unit_pages(assessment):
        assert client.get(url).status_code == 200, url


@pytest.mark.parametrize("persona", ["chair", "secretariat_lead", "appraiser", "focal"])
def test_the_chair_the_lead_appraisers_and_the_unit_read_a_draft(
    persona: str, request: Any, draft: UnitAssessment
) -> None:
    client = client_for(request.getfixturevalue(persona))
    assert client.get(reverse("unit_workspace", args=[2016, "STP"])).status_code == 200
    assert client.get(reverse("item_edit", args=[2016, "STP", "1.1.1"])).status_code == 200


def test_another_unit_gets_404_on_every_page(draft: UnitAssessment, other_unit_focal: Any) -> None:
    client = client_for(other_unit_focal)
    for url in unit_pages(draft):
        assert client.get(url).status_code == 404, url


@pytest.mark.parametrize("raw", ["²", "999999", "abc", ""])
def test_removing_an_assignment_that_is_not_the_units_is_a_404(
    draft: UnitAssessment, focal: Any, raw: str
) -> None:
    url = reverse("assignments", args=[2016, "STP"])
    response = client_for(focal).post(url, {"remove": raw or " "})
    assert response.status_code == 404
