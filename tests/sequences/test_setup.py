"""Start-up: the schedule is registered once; a provider without credentials stops production."""

import pytest
from django.core.management import call_command
from django_q.models import Schedule

from tests.test_settings import PRODUCTION_ENV, manage


@pytest.mark.django_db
def test_setup_schedules_registers_each_tick_once_however_often_it_runs():
    for _ in range(3):
        call_command("setup_schedules", stdout=open("/dev/null", "w"))  # noqa: SIM115
    schedules = Schedule.objects.order_by("func")
    assert [(s.func, s.schedule_type, s.minutes, s.repeats) for s in schedules] == [
        ("alerts.tasks.escalate_alerts", Schedule.MINUTES, 1, -1),
        ("integrations.tasks.meta_backfill", Schedule.MINUTES, 15, -1),
        ("integrations.tasks.meta_leads_retry", Schedule.MINUTES, 1, -1),
        ("leads.tasks.submissions_sweep", Schedule.MINUTES, 1, -1),
        ("sequences.tasks.messages_sweep", Schedule.MINUTES, 1, -1),
        ("sequences.tasks.sequences_tick", Schedule.MINUTES, 1, -1),
    ]


def without(*prefixes: str) -> dict:
    """The complete production environment less the variables starting with these."""
    return {key: value for key, value in PRODUCTION_ENV.items() if not key.startswith(prefixes)}


def test_production_refuses_twilio_without_its_credentials():
    result = manage("check", **without("TWILIO_"))
    assert result.returncode != 0
    assert "TWILIO_ACCOUNT_SID" in result.stderr


def test_production_refuses_sendgrid_without_a_key():
    result = manage("check", **without("SENDGRID_API_KEY"))
    assert result.returncode != 0
    assert "SENDGRID_API_KEY" in result.stderr


def test_production_starts_with_twilio_and_sendgrid_configured():
    result = manage("check", **PRODUCTION_ENV)
    assert PRODUCTION_ENV["SMS_BACKEND"] == "sequences.backends.twilio.TwilioBackend"
    assert PRODUCTION_ENV["EMAIL_BACKEND"] == "sequences.backends.sendgrid.EmailBackend"
    assert result.returncode == 0, result.stderr


def test_check_deploy_fails_while_sendgrid_events_are_unsigned():
    sendgrid = without("SENDGRID_WEBHOOK_PUBLIC_KEY")
    unsigned = manage("check", "--deploy", **sendgrid)  # an error, not a warning
    assert unsigned.returncode != 0
    assert "sequences.E006" in unsigned.stderr + unsigned.stdout
    signed = manage(
        "check",
        "--deploy",
        "--fail-level",
        "WARNING",
        **sendgrid,
        SENDGRID_WEBHOOK_PUBLIC_KEY="MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
    )
    assert signed.returncode == 0, signed.stderr


def test_check_deploy_fails_when_unsigned_sendgrid_events_are_allowed():
    result = manage("check", "--deploy", **PRODUCTION_ENV, SENDGRID_WEBHOOK_ALLOW_UNSIGNED="true")
    assert result.returncode != 0
    assert "sequences.E005" in result.stderr + result.stdout
