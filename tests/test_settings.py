"""Production settings: refuse to start half-configured, and pass `check --deploy` cleanly."""

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
PRODUCTION_ENV = {
    "DJANGO_SETTINGS_MODULE": "realtycrm.settings.production",
    "SECRET_KEY": "x7#Qm2!pZr9@Lw4$Tv6^Ny8&Kb1*Hc3(Jd5)Fg0-Se+Ua=Ro_Ie{Wo}Pq[Ys]Xt",
    "ALLOWED_HOSTS": "crm.harborandmain.example",
    "DATABASE_URL": "postgres://crm@db.internal:5432/realtycrm",
    "REDIS_URL": "redis://127.0.0.1:6379/1",
    "SITE_URL": "https://crm.harborandmain.example",
    # The providers, configured: a deployment that delivers nothing fails `check --deploy`.
    "SMS_BACKEND": "sequences.backends.twilio.TwilioBackend",
    "TWILIO_ACCOUNT_SID": "AC123",
    "TWILIO_AUTH_TOKEN": "token",
    "TWILIO_MESSAGING_SERVICE_SID": "MG123",
    "EMAIL_BACKEND": "sequences.backends.sendgrid.EmailBackend",
    "SENDGRID_API_KEY": "SG.key",
    "SENDGRID_WEBHOOK_PUBLIC_KEY": "MFkwEwYHKoZIzj0CAQYIKoZIzj0DAQcDQgAE",
}


def manage(*args, **env):
    base = {key: value for key, value in os.environ.items() if key not in PRODUCTION_ENV}
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env={**base, **env},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def test_production_passes_check_deploy_with_no_warnings():
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues (0 silenced)" in result.stdout or "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "SECRET_KEY"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "Set the SECRET_KEY environment variable" in result.stderr


def test_production_refuses_a_process_local_rate_limit_cache():
    env = {key: value for key, value in PRODUCTION_ENV.items() if key != "REDIS_URL"}
    result = manage("check", **env)
    assert result.returncode != 0
    assert "REDIS_URL" in result.stderr


@pytest.mark.parametrize(
    ("setting", "backend", "error"),
    [
        ("SMS_BACKEND", "sequences.backends.sms.ConsoleBackend", "sequences.E007"),
        ("SMS_BACKEND", "sequences.backends.sms.LocmemBackend", "sequences.E007"),
        ("EMAIL_BACKEND", "django.core.mail.backends.console.EmailBackend", "sequences.E008"),
        ("EMAIL_BACKEND", "sequences.backends.email.ConsoleEmailBackend", "sequences.E008"),
        ("EMAIL_BACKEND", "django.core.mail.backends.locmem.EmailBackend", "sequences.E008"),
    ],
)
def test_check_deploy_fails_on_a_backend_that_sends_nothing(setting, backend, error):
    result = manage("check", "--deploy", **{**PRODUCTION_ENV, setting: backend})
    assert result.returncode != 0  # an error, not a warning
    assert error in result.stdout + result.stderr
    assert backend in result.stdout + result.stderr


def test_development_needs_no_configuration():
    result = manage("check", DJANGO_SETTINGS_MODULE="realtycrm.settings.dev")
    assert result.returncode == 0, result.stderr


@pytest.mark.parametrize(
    ("env", "error"),
    [
        ({"INBOUND_EMAIL_TOKEN": "short"}, "integrations.E001"),
        ({"META_VERIFY_TOKEN": "a-verify-token-long-enough"}, "integrations.E002"),
    ],
)
def test_check_deploy_fails_on_a_half_configured_channel(env, error):
    result = manage("check", "--deploy", **{**PRODUCTION_ENV, **env})
    assert result.returncode != 0
    assert error in result.stdout + result.stderr


def test_check_deploy_passes_with_every_channel_configured():
    channels = {
        "INBOUND_EMAIL_TOKEN": "Jm3vQ8yR2kT5wZ9pL4nB7xC1",
        "META_VERIFY_TOKEN": "a-verify-token-long-enough",
        "META_APP_SECRET": "0123456789abcdef0123456789abcdef",
    }
    result = manage("check", "--deploy", "--fail-level", "WARNING", **PRODUCTION_ENV, **channels)
    assert result.returncode == 0, result.stdout + result.stderr


PRINT_DATABASES = (
    "from django.conf import settings as s; d = s.DATABASES; "
    "print(d['default']['DISABLE_SERVER_SIDE_CURSORS'], d['default']['CONN_HEALTH_CHECKS'], "
    "sorted(d), s.REPORTS_DATABASE)"
)


def test_several_hosts_settings_pgbouncer_in_transaction_mode_and_a_reports_replica():
    result = manage(
        "shell",
        "-c",
        PRINT_DATABASES,
        **PRODUCTION_ENV,
        DATABASE_POOLING="transaction",
        DATABASE_CONN_HEALTH_CHECKS="false",
        REPORTS_DATABASE_URL="postgres://crm@replica.internal:5432/realtycrm",
    )
    assert result.stdout.strip().splitlines()[-1] == "True False ['default', 'replica'] replica", (
        result.stderr
    )
    plain = manage("shell", "-c", PRINT_DATABASES, **PRODUCTION_ENV)
    assert plain.stdout.strip().splitlines()[-1] == "False True ['default'] default", plain.stderr
    wrong = manage("check", **PRODUCTION_ENV, DATABASE_POOLING="statement")
    assert wrong.returncode != 0 and "DATABASE_POOLING" in wrong.stderr
