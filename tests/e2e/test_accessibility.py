"""WCAG 2.1 AA in a real browser (DESIGN §11): every page type of every role and the public.

For each demo role the crawl starts at the role's home page and follows the links it finds
(one page per URL name, so a new page is found as soon as something links to it), adds the
login, 403 and 404 pages, and on every page

- runs axe-core (vendored, pinned: tests/e2e/vendor/) at 1366×768 and at 390×844, and fails on
  any violation of impact "serious" or "critical";
- fails when the page is wider than a 390 px phone (``scrollWidth`` at a 390×844 viewport).

The pages crawled and the counts go to test-artifacts/axe-report.json.
"""

from __future__ import annotations

import json
from collections import deque
from pathlib import Path
from typing import Any
from urllib.parse import urldefrag, urlsplit

import pytest
from django.core.management import call_command
from django.urls import Resolver404, resolve

from tests.e2e.test_criteria_browser import log_in

pytestmark = [pytest.mark.e2e, pytest.mark.django_db(transaction=True)]

AXE = Path(__file__).resolve().parent / "vendor" / "axe-core-4.10.3.min.js"
REPORT = Path(__file__).resolve().parents[2] / "test-artifacts" / "axe-report.json"
PHONE = {"width": 390, "height": 844}
DESKTOP = {"width": 1366, "height": 768}
FAILING_IMPACTS = {"serious", "critical"}
# Files, not pages (downloads open no document), and links that act rather than show.
NOT_PAGES = {
    "criteria_template",
    "criteria_export",
    "evidence_download",
    "unit_workbook_download",
    "council_decision_pdf",
    "public_json",
    "public_csv",
    "round_workbook",
    "public_round_workbook",
    "pdf_province_report",
    "pdf_decision_annex",
    "pdf_all_units_zip",
    "pdf_self_assessment",
    "pdf_scorecard",
    "logout",
    "set_language",
}
FILE_SUFFIXES = (".pdf", ".xlsx", ".csv", ".json", ".zip")
# The demo's people (README): every role of DESIGN §6, and the public, with where the crawl
# starts: the home page, and the role's menu entries (links of every page's navigation bar, so
# that one broken home page does not hide the rest of the role's pages).
ROLES = {
    "focal officer": ("stp.daumoi", ["/"]),
    "leader": ("stp", ["/"]),
    "contributor": ("stp.cv1", ["/"]),
    "appraiser": ("thamdinh1", ["/", "/tham-dinh/", "/hop-thu/", "/tieu-chi/"]),
    "secretariat lead": ("sonoivu", ["/", "/thu-ky/", "/tham-dinh/", "/hoi-dong/", "/hop-thu/"]),
    "council member": ("hoidong1", ["/", "/hoi-dong/", "/hop-thu/", "/tieu-chi/"]),
    "chair": ("chutich", ["/", "/hoi-dong/", "/hop-thu/", "/tieu-chi/"]),
    "public": (None, ["/", "/cong-khai/"]),
}
# Pages a role may not open: the first of these that answers 403 is crawled as the 403 page.
FORBIDDEN_CANDIDATES = ("/thu-ky/2016/", "/thu-ky/nhap-tieu-chi/", "/tham-dinh/", "/hoi-dong/")
MISSING = "/khong-co-trang-nay/"

RUN_AXE = """async () => {
  const result = await axe.run(document, {resultTypes: ["violations"]});
  return result.violations.map(v => ({
    id: v.id, impact: v.impact, help: v.help,
    nodes: v.nodes.map(n => ({target: n.target.join(" "), summary: n.failureSummary,
                              html: n.html.slice(0, 200)})),
  }));
}"""


@pytest.fixture
def browser_context_args(browser_context_args: dict[str, Any]) -> dict[str, Any]:
    # axe is injected as a script tag; the portal's CSP allows only its own scripts.
    return {**browser_context_args, "bypass_csp": True}


@pytest.fixture
def demo(transactional_db: None) -> None:
    call_command("seed_demo", verbosity=0)


def url_name(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    if match.namespace == "admin" or path.startswith("/admin/"):
        return None
    return match.url_name


def audit(page: Any) -> tuple[list[dict[str, Any]], int]:
    """The serious and critical violations at both sizes, and the width at 390 px."""
    found: dict[tuple[str, str], dict[str, Any]] = {}
    for size in (DESKTOP, PHONE):
        page.set_viewport_size(size)
        if not page.evaluate("typeof window.axe !== 'undefined'"):
            page.add_script_tag(path=str(AXE))
        for violation in page.evaluate(RUN_AXE):
            if violation["impact"] not in FAILING_IMPACTS:
                continue
            for node in violation["nodes"]:
                found.setdefault(
                    (violation["id"], node["target"]),
                    {
                        "rule": violation["id"],
                        "impact": violation["impact"],
                        "help": violation["help"],
                        "target": node["target"],
                        "html": node["html"],
                        "summary": node["summary"],
                        "viewport": size["width"],
                    },
                )
    width = page.evaluate("document.documentElement.scrollWidth")
    return list(found.values()), width


def links_of(page: Any, origin: str) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]:not([download])", "links => links.map(a => a.href)")
    out = []
    for href in hrefs:
        href = urldefrag(href)[0]
        parts = urlsplit(href)
        if f"{parts.scheme}://{parts.netloc}" != origin or parts.path.endswith(FILE_SUFFIXES):
            continue
        out.append(href)
    return out


def crawl(page: Any, base: str, role: str, starts: list[str]) -> list[dict[str, Any]]:
    """Visit one page per URL name reachable by links from the role's home page."""
    results: list[dict[str, Any]] = []
    seen: set[str] = set()
    queue: deque[str] = deque(f"{base}{path}" for path in starts)
    while queue:
        url = queue.popleft()
        name = url_name(urlsplit(url).path)
        if name is None or name in NOT_PAGES or name in seen:
            continue
        seen.add(name)
        page.set_viewport_size(DESKTOP)
        response = page.goto(url)
        landed = urlsplit(page.url).path
        landed_name = url_name(landed) or name
        if landed_name != name and landed_name in seen:
            continue  # a redirect to a page already audited (e.g. login, home)
        seen.add(landed_name)
        violations, width = audit(page)
        results.append(
            {
                "role": role,
                "page": landed_name,
                "url": landed + (urlsplit(page.url).query and "?" + urlsplit(page.url).query),
                "status": response.status if response else None,
                "width_390": width,
                "violations": violations,
            }
        )
        queue.extend(links_of(page, base))
    results.extend(form_pages(page, base, role))
    for label, path in [("404", MISSING)] + [("403", p) for p in FORBIDDEN_CANDIDATES]:
        if label == "403" and any(r["page"] == "403" for r in results):
            break
        page.set_viewport_size(DESKTOP)
        response = page.goto(f"{base}{path}")
        if response is None or str(response.status) != label:
            continue
        violations, width = audit(page)
        results.append(
            {
                "role": role,
                "page": label,
                "url": path,
                "status": response.status,
                "width_390": width,
                "violations": violations,
            }
        )
    return results


def form_pages(page: Any, base: str, role: str) -> list[dict[str, Any]]:
    """Pages that only a form opens, each reached by clicking and changing nothing: the
    confirmation step (DESIGN §11: the first POST only asks) and a refused form."""
    steps: list[tuple[str, str, Any]] = []
    if role == "focal officer":
        # Deleting a document first lists what it would unlink.
        steps.append(
            (
                "confirm (evidence_delete)",
                "/don-vi/2016/STP/tai-lieu/",
                lambda: page.locator("form[action$='/xoa/'] button[type=submit]").first.click(),
            )
        )
    if role == "public":

        def wrong_password() -> None:
            page.get_by_label("Tên đăng nhập").fill("stp")
            page.get_by_label("Mật khẩu").fill("sai-mat-khau")
            page.get_by_role("button", name="Đăng nhập").click()

        steps.append(("login (refused)", "/dang-nhap/", wrong_password))
    results = []
    for label, path, act in steps:
        page.set_viewport_size(DESKTOP)
        page.goto(f"{base}{path}")
        with page.expect_navigation():
            act()
        violations, width = audit(page)
        results.append(
            {
                "role": role,
                "page": label,
                "url": urlsplit(page.url).path,
                "status": 200,
                "width_390": width,
                "violations": violations,
            }
        )
    return results


def fails(result: dict[str, Any]) -> bool:
    return bool(
        result["violations"]
        or result["width_390"] > PHONE["width"]
        or (result["status"] or 500) >= 500
    )


def describe(result: dict[str, Any]) -> str:
    lines = [f"{result['role']} · {result['page']} {result['url']} (width {result['width_390']})"]
    for v in result["violations"]:
        lines.append(
            f"    [{v['impact']}] {v['rule']} @ {v['target']} ({v['viewport']} px): "
            f"{v['summary'].splitlines()[-1].strip() if v['summary'] else v['help']} "
            f"— {v['html']}"
        )
    if result["width_390"] > PHONE["width"]:
        lines.append(f"    page is {result['width_390']} px wide at a 390 px viewport")
    if (result["status"] or 500) >= 500:
        lines.append(f"    the server answered {result['status']}")
    return "\n".join(lines)


def test_every_page_of_every_role_passes_axe_and_fits_a_phone(
    demo: None, live_server: Any, page: Any
) -> None:
    base = live_server.url
    results: list[dict[str, Any]] = []
    for role, (username, starts) in ROLES.items():
        page.context.clear_cookies()
        if username:
            log_in(page, base, username)
        results.extend(crawl(page, base, role, starts))

    failing = [r for r in results if fails(r)]
    REPORT.parent.mkdir(parents=True, exist_ok=True)
    REPORT.write_text(
        json.dumps(
            {
                "axe": AXE.name,
                "pages_crawled": len(results),
                "page_types": sorted({r["page"] for r in results}),
                "pages_failing": sum(1 for r in results if fails(r)),
                "pages_with_violations": sum(1 for r in results if r["violations"]),
                "violations": sum(len(r["violations"]) for r in results),
                "pages_wider_than_390": sum(1 for r in results if r["width_390"] > PHONE["width"]),
                "pages": results,
            },
            ensure_ascii=False,
            indent=2,
        ),
        encoding="utf-8",
    )
    # Every role reached more than its home page: the crawl itself works.
    for role in ROLES:
        assert sum(1 for r in results if r["role"] == role) >= 3, role
    assert not failing, (
        f"{len(failing)} of {len(results)} pages fail WCAG 2.1 AA or overflow 390 px:\n"
        + "\n".join(describe(r) for r in failing)
    )


def swap(page: Any, html: str, *, target: str = "#swap-target") -> Any:
    """An htmx swap of `html` into `target`, as after a save; the focused element's id."""
    page.evaluate(
        """([target, html]) => new Promise(done => {
             document.addEventListener("htmx:afterSettle", () => setTimeout(done, 20), {once: true});
             htmx.swap(target, html, {swapStyle: "innerHTML"});
           })""",
        [target, html],
    )
    return page.evaluate("document.activeElement && document.activeElement.id")


def test_focus_follows_the_htmx_contract_after_a_swap(live_server: Any, page: Any) -> None:
    """static/js/portal.js: after a swap focus goes to [data-focus-after-swap], else to the
    status or alert message, else to the swapped element, and stays in an input being typed."""
    page.goto(f"{live_server.url}/dang-nhap/")
    page.evaluate(
        """() => document.querySelector("main").insertAdjacentHTML("beforeend",
             '<div id="swap-target"></div><div id="other"></div>')"""
    )
    page.locator("body").click(position={"x": 1, "y": 1})
    marked = '<p>x</p><span role="status" id="s">Đã lưu</span><a href="#" id="m" data-focus-after-swap>tiếp</a>'
    assert swap(page, marked) == "m"
    page.locator("body").click(position={"x": 1, "y": 1})
    assert swap(page, '<p>x</p><span role="status" id="s" tabindex="-1">Đã lưu</span>') == "s"
    page.locator("body").click(position={"x": 1, "y": 1})
    assert swap(page, '<div role="alert" id="a">Không lưu được</div>') == "a"
    # Nothing marked: the swapped element itself takes the focus (made focusable).
    page.locator("body").click(position={"x": 1, "y": 1})
    assert swap(page, "<p>x</p>", target="#other") == "other"
    assert page.evaluate("document.getElementById('other').getAttribute('tabindex')") == "-1"
    # Someone typing keeps the cursor when a preview elsewhere refreshes.
    page.get_by_label("Tên đăng nhập").focus()
    assert swap(page, '<span role="status" id="p">2,5 điểm</span>') == "id_username"
    # …but an explicit mark still wins.
    assert swap(page, '<span id="q" data-focus-after-swap tabindex="-1">!</span>') == "q"


def test_the_file_widget_shows_the_chosen_name_and_is_reached_by_tab(
    demo: None, live_server: Any, page: Any, tmp_path: Path
) -> None:
    base = live_server.url
    log_in(page, base, "sonoivu")
    page.goto(f"{base}/thu-ky/nhap-tieu-chi/")
    button = page.locator(".portal-file-button").first
    assert "Chọn tệp" in button.inner_text()
    assert "Chưa chọn tệp" in page.locator(".portal-file-name").first.inner_text()
    file_input = page.locator("input.portal-file-input").first
    file_input.focus()
    outline = button.evaluate("el => getComputedStyle(el).outlineStyle")
    assert outline == "solid", outline  # the visible button shows the focus
    workbook = tmp_path / "bo-tieu-chi.xlsx"
    workbook.write_bytes(b"PK")
    file_input.set_input_files(str(workbook))
    assert page.locator(".portal-file-name").first.inner_text() == "bo-tieu-chi.xlsx"


def test_the_audit_catches_a_violation_and_an_overflow(live_server: Any, page: Any) -> None:
    """The crawl's own check: a pale text and a wide box on a clean page are both caught."""
    page.goto(f"{live_server.url}/dang-nhap/")
    assert audit(page) == ([], PHONE["width"])
    page.evaluate(
        """() => document.querySelector("main").insertAdjacentHTML("beforeend",
             '<p style="color:#ccc">nhạt</p><div style="width:600px">rộng</div>')"""
    )
    violations, width = audit(page)
    assert [v["rule"] for v in violations] == ["color-contrast"]
    assert width > PHONE["width"]
