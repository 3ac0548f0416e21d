"""`make run`'s log: the texts and emails the console backends print read plainly, the request
log leaves out static files and polls, and links in messages point at the server it started."""

import logging
import os
import subprocess
import sys
from pathlib import Path

import pytest

from realtycrm.logs import QuietRequests, QuietWorker
from sequences.models import Message
from sequences.outbox import message_dispatch
from tests.factories import LeadFactory, MessageFactory

ROOT = Path(__file__).resolve().parent.parent


@pytest.mark.django_db
@pytest.mark.usefixtures("clock")  # noon: inside texting hours
def test_a_text_and_an_email_sent_in_development_print_as_a_person_reads_them(
    settings, capsys, alex
):
    settings.SMS_BACKEND = "sequences.backends.sms.ConsoleBackend"
    settings.EMAIL_BACKEND = "sequences.backends.email.ConsoleEmailBackend"
    lead = LeadFactory(
        first_name="Zoë", owner=alex, texting=True, email="zoe@example.com", phone="+14135550111"
    )
    text = MessageFactory(lead=lead, body="Hi Zoë, it’s Alex: the comps for 48 Harbor View…")
    email = MessageFactory(
        lead=lead, email=True, subject="Your home’s value, Zoë", body="Hi Zoë,\n\nHere it is…"
    )
    message_dispatch(text.pk)
    message_dispatch(email.pk)

    printed = capsys.readouterr().out
    assert Message.objects.filter(status=Message.Status.SENT).count() == 2
    assert "SMS to +14135550111" in printed
    assert "Hi Zoë, it’s Alex: the comps for 48 Harbor View…" in printed
    assert "Email to zoe@example.com" in printed
    assert "Subject: Your home’s value, Zoë" in printed
    assert "Hi Zoë,\n\nHere it is…" in printed
    assert "Reply-To: Alex Rivera <" in printed
    # Not the MIME message Django's own console backend prints.
    assert "Content-Transfer-Encoding" not in printed and "=C3=AB" not in printed
    assert "<html" not in printed


def _request(line: str, status: int) -> logging.LogRecord:
    record = logging.LogRecord("django.server", logging.INFO, "", 0, '"%s" %s %s', None, None)
    record.args = (line, str(status), "123")
    record.status_code = status
    return record


@pytest.mark.parametrize(
    ("line", "status", "logged"),
    [
        ("GET / HTTP/1.1", 200, True),
        ("GET /leads/12/ HTTP/1.1", 200, True),
        ("POST /leads/12/log/ HTTP/1.1", 302, True),
        ("GET /static/css/site.css HTTP/1.1", 200, False),
        ("GET /static/css/site.css HTTP/1.1", 304, False),
        ("GET /alerts/feed/ HTTP/1.1", 200, False),
        ("GET /today/tasks/ HTTP/1.1", 200, False),
        ("GET /leads/12/messages/?poll=1 HTTP/1.1", 286, False),
        ("GET /leads/12/messages/?page=2 HTTP/1.1", 200, True),  # an agent's "Show older"
        ("GET /imports/3/progress/ HTTP/1.1", 200, False),
        ("GET /alerts/feed/ HTTP/1.1", 500, True),  # an error is always logged
        ("GET /static/css/missing.css HTTP/1.1", 404, True),
    ],
)
def test_the_request_log_leaves_out_static_files_and_polls(line, status, logged):
    assert QuietRequests().filter(_request(line, status)) is logged


@pytest.mark.parametrize(
    ("message", "level", "logged"),
    [
        ("Q Cluster victor-robert [realtycrm] running.", logging.INFO, True),
        ("Q Cluster victor-robert has stopped.", logging.INFO, True),
        ("Enqueued [realtycrm] 1", logging.INFO, False),
        ("Process-52b0 created task river-uranus from schedule [sequences]", logging.INFO, False),
        (
            "Process-52b0 processing river-uranus 'sequences.tasks.sequences_tick'",
            logging.INFO,
            False,
        ),
        ("Processed 'sequences.tasks.sequences_tick' (river-uranus)", logging.INFO, False),
        ("Failed 'sequences.tasks.sequences_tick' - boom", logging.ERROR, True),
    ],
)
def test_the_worker_log_keeps_starts_stops_and_failures(message, level, logged):
    record = logging.LogRecord("django-q", level, "", 0, message, None, None)
    assert QuietWorker().filter(record) is logged


def _dev_setting(name: str, **env) -> str:
    base = {key: value for key, value in os.environ.items() if key not in ("SITE_URL", "PORT")}
    result = subprocess.run(
        [sys.executable, "-c", f"from django.conf import settings; print(settings.{name})"],
        cwd=ROOT,
        env={**base, "DJANGO_SETTINGS_MODULE": "realtycrm.settings.dev", **env},
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout.strip()


def test_links_in_messages_use_the_host_make_run_prints():
    makefile = (ROOT / "Makefile").read_text()
    assert 'echo "RealtyCRM: http://127.0.0.1:$(PORT)/' in makefile and "export PORT" in makefile
    assert _dev_setting("SITE_URL", PORT="8123") == "http://127.0.0.1:8123"
    assert _dev_setting("SITE_URL") == "http://127.0.0.1:8000"
    assert _dev_setting("SITE_URL", SITE_URL="https://crm.example.com/") == (
        "https://crm.example.com"
    )


def test_the_browsers_favicon_request_finds_the_brokerages_icon(client):
    response = client.get("/favicon.ico")
    assert response.status_code == 302
    assert response["Location"] == "/static/img/favicon.svg"
    assert client.get("/static/img/favicon.svg").status_code == 200
