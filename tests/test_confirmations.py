"""Irreversible acts ask first (DESIGN §11, issue 10): deleting an evidence document, and the
chair's approval, publication and correction. Each act has two tests: a POST without the
confirmation changes nothing and states the consequence in numbers; the confirmed POST acts.
The Django test client runs no JavaScript, so every test here is also the no-JavaScript path:
the confirmation is an ordinary form that re-posts the same fields."""

from __future__ import annotations

import datetime
import re
from typing import Any

import pytest
from django.urls import reverse

from assessments import evidence
from assessments.confirm import CONFIRM_FIELD
from assessments.models import AssessmentState, Event, EventAction, Evidence, EvidenceLink
from councils.models import Decision
from reporting import services as report_services
from reporting.models import ResultSnapshot
from tests.assessments.test_evidence import add, item, pdf
from tests.assessments.test_evidence import assessment as assessment
from tests.assessments.test_evidence import document as document
from tests.conftest import client_for
from tests.reporting.test_council import APPROVE_URL, ROUND_URL, states
from tests.reporting.test_council import appraised as appraised

pytestmark = pytest.mark.django_db
CONFIRMED = {CONFIRM_FIELD: "1"}


def text(response: Any) -> str:
    return re.sub(r"\s+", " ", response.content.decode())


# --- deleting an evidence document -------------------------------------------------------------


def test_deleting_a_document_first_lists_the_items_that_lose_it(
    focal: Any, leader: Any, document: Evidence, assessment: Any
) -> None:
    first, second = item(assessment, "1.1.1"), item(assessment, "1.3.1")
    evidence.link_evidence(first, document, "", by=leader)
    evidence.link_evidence(second, document, "", by=leader)
    # 1.3.1 keeps another document; 1.1.1 has points and then nothing.
    [other] = add(assessment, leader, pdf("Báo cáo.pdf", b"other"))
    evidence.link_evidence(second, other, "", by=leader)
    url = reverse("evidence_delete", args=[2016, "STP", document.pk])
    response = client_for(focal).post(url)
    assert response.status_code == 200
    page = text(response)
    assert "2 tiêu chí mất tài liệu này." in page
    assert "còn 1 tài liệu" in page
    assert Evidence.objects.filter(pk=document.pk).exists()
    assert EvidenceLink.objects.filter(evidence=document).count() == 2
    assert not Event.objects.filter(action=EventAction.EVIDENCE_DELETED).exists()
    # The confirmation form posts back to the same address with the confirmation field.
    assert f'action="{url}"' in page and f'name="{CONFIRM_FIELD}" value="1"' in page
    confirmed = client_for(focal).post(url, CONFIRMED)
    assert confirmed.status_code == 302
    assert not Evidence.objects.filter(pk=document.pk).exists()


def test_the_deletion_says_which_items_would_then_stop_the_submission(
    focal: Any, leader: Any, document: Evidence, assessment: Any
) -> None:
    target = item(assessment, "1.1.1")
    assert target.criterion.evidence_required
    target.self_value, target.self_score = "có", target.criterion.max_points
    target.save(update_fields=["self_value", "self_score"])
    evidence.link_evidence(item(assessment, "1.1.1"), document, "", by=leader)
    page = text(client_for(focal).post(reverse("evidence_delete", args=[2016, "STP", document.pk])))
    assert "không còn tài liệu, sẽ không nộp được" in page
    assert "1 tiêu chí không còn tài liệu kiểm chứng" in page


# --- approval, publication, correction ---------------------------------------------------------


def decision(**extra: Any) -> dict[str, Any]:
    return {"number": "125/QĐ-UBND", "date": "28/02/2017", "signer": "Nguyễn Văn A", **extra}


def test_the_approval_page_states_what_approval_freezes_before_the_chair_approves(
    appraised: Any, chair: Any
) -> None:
    client = client_for(chair)
    page = client.get(APPROVE_URL)
    assert page.status_code == 200
    body = text(page)
    assert "Kết quả chính thức của 3 đơn vị được khóa thành phiên bản 1." in body
    assert "Sau đó không ai sửa được điểm" in body
    # Without the confirmation (the page's own button), nothing is approved.
    refused = client.post(APPROVE_URL, decision())
    assert refused.status_code == 422
    assert not Decision.objects.exists() and not ResultSnapshot.objects.exists()
    assert states() == {AssessmentState.APPRAISED}
    # Typed values are kept.
    assert 'value="125/QĐ-UBND"' in refused.content.decode()
    assert client.post(APPROVE_URL, decision(**CONFIRMED)).status_code == 302
    assert states() == {AssessmentState.APPROVED}


def test_the_round_page_links_to_the_approval_page_instead_of_approving_in_place(
    appraised: Any, chair: Any, council_member: Any
) -> None:
    page = client_for(chair).get(ROUND_URL).content.decode()
    assert APPROVE_URL in page
    assert APPROVE_URL not in client_for(council_member).get(ROUND_URL).content.decode()


@pytest.mark.parametrize("who", ["council_member", "secretariat_lead", "leader", "appraiser"])
def test_only_the_chair_opens_the_approval_page(appraised: Any, who: str, request: Any) -> None:
    user = request.getfixturevalue(who)
    assert client_for(user).get(APPROVE_URL).status_code == 403
    assert client_for(user).post(APPROVE_URL, decision(**CONFIRMED)).status_code == 403
    assert not ResultSnapshot.objects.exists()


def test_the_approval_page_of_an_unknown_round_is_404_and_anonymous_users_log_in(
    appraised: Any, chair: Any
) -> None:
    assert client_for(chair).get(reverse("council_approve", args=[2099])).status_code == 404
    assert client_for(None).get(APPROVE_URL).status_code == 302


def approved(appraised: Any, chair: Any) -> Any:
    round_ = appraised["STP"].round
    report_services.approve_round(
        round_, by=chair, number="1/QĐ", date=datetime.date(2017, 2, 28), signer="A"
    )
    return round_


def test_publication_asks_first_with_the_numbers(appraised: Any, chair: Any) -> None:
    approved(appraised, chair)
    client = client_for(chair)
    response = client.post(ROUND_URL, {"action": "publish"})
    assert response.status_code == 200
    body = text(response)
    assert "Phiên bản 1 của kết quả 3 đơn vị được công khai" in body
    assert "Không thể rút lại" in body
    assert ResultSnapshot.objects.get().published_at is None
    assert states() == {AssessmentState.APPROVED}
    # The confirmation form carries the action.
    assert 'name="action" value="publish"' in body
    assert client.post(ROUND_URL, {"action": "publish", **CONFIRMED}).status_code == 302
    assert states() == {AssessmentState.PUBLISHED}


def test_a_correction_asks_first_and_keeps_the_reason(appraised: Any, chair: Any) -> None:
    approved(appraised, chair)
    client = client_for(chair)
    reason = "Sửa lỗi đánh máy tên đơn vị"
    response = client.post(ROUND_URL, {"action": "correct", "correction-reason": reason})
    assert response.status_code == 200
    body = text(response)
    assert "phiên bản 2" in body and reason in body
    assert ResultSnapshot.objects.count() == 1
    confirmed = client.post(
        ROUND_URL, {"action": "correct", "correction-reason": reason, **CONFIRMED}
    )
    assert confirmed.status_code == 302
    assert [s.version for s in ResultSnapshot.objects.order_by("version")] == [1, 2]


def test_an_empty_correction_reason_is_refused_before_any_confirmation(
    appraised: Any, chair: Any
) -> None:
    approved(appraised, chair)
    response = client_for(chair).post(ROUND_URL, {"action": "correct", "correction-reason": ""})
    assert response.status_code == 422
    assert ResultSnapshot.objects.count() == 1
