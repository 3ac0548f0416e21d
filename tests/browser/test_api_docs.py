"""The Events API's docs page, as a lead source's developer opens it: Swagger UI from our own
static files, under the dashboard's Content-Security-Policy, with nothing refused."""

import pytest

pytestmark = [
    pytest.mark.browser,
    pytest.mark.django_db(transaction=True, serialized_rollback=True),
]


def test_the_api_docs_page_renders_the_events_endpoint(page, live_server):
    external = []
    page.on(
        "request",
        lambda request: (
            external.append(request.url)
            if not request.url.startswith(live_server.url) and not request.url.startswith("data:")
            else None
        ),
    )
    page.goto(f"{live_server.url}/api/v1/docs")
    page.get_by_text("RealtyCRM Events API").first.wait_for()
    operation = page.locator(".opblock-summary-path", has_text="/api/v1/events")
    operation.first.wait_for()
    assert page.locator(".opblock-summary-path", has_text="/api/v1/people").count() == 1
    operation.first.click()
    page.get_by_text("Idempotency-Key").first.wait_for()
    assert page.locator("button.authorize").count() == 1
    assert external == []
