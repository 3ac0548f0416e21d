"""What a browser and a proxy are told about each page: dashboard pages are private, never
stored, and carry a Content-Security-Policy; the public intake forms are left as they were."""

import re
from pathlib import Path

import pytest
from django.urls import reverse

from tests.factories import LeadFactory
from tests.helpers import answers

pytestmark = pytest.mark.django_db
TEMPLATES = Path(__file__).resolve().parent.parent / "templates"


def test_a_dashboard_page_is_private_unstored_and_has_a_csp(client, agent):
    response = client.get(reverse("leads:today"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    csp = response["Content-Security-Policy"]
    assert "default-src 'self'" in csp
    assert "script-src 'self';" in csp
    assert "style-src 'self';" in csp
    assert "frame-ancestors 'none'" in csp
    assert "unsafe-inline" not in csp and "unsafe-eval" not in csp


@pytest.mark.parametrize(
    "name", ["leads:lead-list", "leads:lead-detail", "alerts:inbox", "reports:segment-report"]
)
def test_every_dashboard_page_has_both_headers(client, agent, name):
    lead = LeadFactory(owner=agent)
    url = reverse(name, args=[lead.pk]) if name == "leads:lead-detail" else reverse(name)
    response = client.get(url)
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"
    assert "script-src 'self'" in response["Content-Security-Policy"]


def test_feeds_and_sign_in_are_not_stored_either(client, agent):
    assert client.get(reverse("alerts:feed"))["Cache-Control"] == "private, no-store"
    client.logout()
    assert client.get(reverse("login"))["Cache-Control"] == "private, no-store"


def test_the_admin_is_not_stored(admin_client):
    response = admin_client.get(reverse("admin:leads_lead_changelist"))
    assert response.status_code == 200
    assert response["Cache-Control"] == "private, no-store"


def test_an_intake_form_is_not_private_and_still_works_framed(client, agent, settings):
    """Signed in or not, the public form keeps its headers: cacheable, framable with ?embed=1."""
    settings.INTAKE_FRAME_ANCESTORS = ["https://www.harborandmain.example"]
    url = reverse("leads:intake", args=["valuation"])
    for response in (client.get(url), client.get(url + "?embed=1")):
        assert response.status_code == 200
        cache_control = response.get("Cache-Control", "")
        assert "no-store" not in cache_control and "private" not in cache_control
    embedded = client.get(url + "?embed=1")
    assert embedded["Content-Security-Policy"] == (
        "frame-ancestors 'self' https://www.harborandmain.example"
    )
    assert "X-Frame-Options" not in embedded
    posted = client.post(url + "?embed=1", answers("valuation"), REMOTE_ADDR="203.0.113.9")
    assert posted.status_code == 302
    thanks = client.get(posted["Location"])
    assert thanks.status_code == 200
    assert "no-store" not in thanks.get("Cache-Control", "")


def test_static_files_are_not_marked_private(client, agent):
    response = client.get("/static/css/site.css")
    assert response.status_code == 200
    assert "no-store" not in response.get("Cache-Control", "")


# What the CSP refuses, so no dashboard template may carry it: inline scripts (a <script> without
# src), inline styles (<style>, style="…"), inline event handlers (onclick="…"), javascript: URLs.
INLINE = re.compile(
    r"<script(?![^>]*\bsrc=)[^>]*>|<style\b|\sstyle=|\son[a-z]+=|javascript:", re.IGNORECASE
)
# Email bodies (styled inline by necessity, never served as a page) and the admin's own pages
# (no CSP there).
NOT_PAGES = ("sequences/email.html", "admin/", "sequences/admin/")


def test_no_template_carries_what_the_csp_refuses():
    offending = []
    for path in sorted(TEMPLATES.rglob("*.html")):
        name = path.relative_to(TEMPLATES).as_posix()
        if name.startswith(NOT_PAGES):
            continue
        for match in INLINE.finditer(path.read_text()):
            offending.append(f"{name}: {match.group(0)}")
    assert offending == []


# How CSP level 3 falls back when a directive is missing (worker-src → child-src → script-src →
# default-src; manifest-src → default-src).
FALLBACK = {
    "worker-src": ("worker-src", "child-src", "script-src", "default-src"),
    "manifest-src": ("manifest-src", "default-src"),
    "connect-src": ("connect-src", "default-src"),
}


def effective(policy: str, directive: str) -> str:
    rules = {}
    for part in policy.split(";"):
        name, _, sources = part.strip().partition(" ")
        rules[name] = sources.strip()
    return next(rules[name] for name in FALLBACK[directive] if name in rules)


@pytest.mark.parametrize("directive", sorted(FALLBACK))
def test_the_dashboard_csp_lets_the_app_install_and_subscribe(client, agent, directive):
    """The service worker (/sw.js), the manifest and the subscribe/claim requests are all this
    origin, so the dashboard CSP allows them as it stands; the push service itself is the
    browser's business, not the page's (no connect-src for it). tests/browser/test_push_flows.py
    runs it under the real policy."""
    policy = client.get(reverse("leads:today"))["Content-Security-Policy"]
    assert effective(policy, directive) == "'self'"
