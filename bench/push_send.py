"""What one Web Push costs the worker: a hot alert's payload encrypted to a browser's keys
(aes128gcm), the request signed (VAPID, ES256) and POSTed to a push service on this machine.

    .venv/bin/python bench/push_send.py            # 300 pushes
    .venv/bin/python bench/push_send.py --pushes 1000

A temporary SQLite database, migrated; one agent, one hot lead and its alert, one subscribed
browser whose endpoint is the local fake push service (tests/push.py, which answers 201 at once,
so the numbers are our side's work plus a loopback round trip). Each push goes through
alerts.push.alert_push_send, the django-q2 task's body: load the alert and the subscription,
build the payload, encrypt, sign, send, record the success. Also printed: the payload's size
(a push service takes at most 4 KB) and the import time of pywebpush.
"""

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--pushes", type=int, default=300)
    args = parser.parse_args()

    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import pywebpush"], check=True)
    cold_import = time.perf_counter() - started
    started = time.perf_counter()
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    cold_import -= time.perf_counter() - started

    folder = tempfile.mkdtemp(prefix="realtycrm-push-bench-")
    os.environ.update(
        {
            "DJANGO_SETTINGS_MODULE": "realtycrm.settings.dev",
            "DEBUG": "false",
            "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite3",
            "LOG_LEVEL": "WARNING",
        }
    )
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command

    call_command("migrate", verbosity=0)
    from alerts.models import Alert, PushSubscription
    from alerts.push import alert_push_send
    from leads.models import Lead
    from tests.factories import AgentFactory
    from tests.push import FakePushService, new_browser, push_on

    push_on(settings)
    with FakePushService() as service:
        agent = AgentFactory(user__first_name="Alex", user__last_name="Rivera").user
        lead = Lead.objects.create(
            first_name="Dana",
            last_name="Whitfield",
            phone="+14135550187",
            source="valuation",
            timeline="within_3_months",
            intent="hot",
            property_address="48 Harbor View Drive",
            owner=agent,
        )
        alert = Alert.objects.create(lead=lead, agent=agent, reason=Alert.Reason.HOT_LEAD)
        browser = new_browser(service.url)
        row = PushSubscription.objects.create(user=agent, endpoint=browser.endpoint, **browser.keys)

        timings = []
        for _ in range(args.pushes):
            started = time.perf_counter()
            assert alert_push_send(alert.pk, "raised", row.pk) == "sent"
            timings.append(time.perf_counter() - started)

        payload = browser.decrypt(service.requests[-1])
        plain = len(json.dumps(payload, separators=(",", ":")).encode())
        body = len(service.requests[-1]["body"])

    first, timings = timings[0], sorted(timings[1:])
    ms = [t * 1000 for t in timings]
    print(f"pushes: {len(ms) + 1} to a loopback push service, one browser")
    print(f"first push in the process (imports pywebpush): {first * 1000:.0f} ms")
    print(
        f"every other push: p50 {statistics.median(ms):.1f} ms, "
        f"p95 {ms[int(len(ms) * 0.95) - 1]:.1f} ms, max {ms[-1]:.1f} ms"
    )
    print(f"throughput: {len(ms) / sum(timings):.0f} pushes/s on one worker")
    print(f"payload: {plain} bytes of JSON, {body} bytes encrypted (push services take 4096)")
    print(f"payload title: {payload['title']!r}")
    print(f"import pywebpush (cold, in a fresh interpreter): {cold_import * 1000:.0f} ms")


if __name__ == "__main__":
    main()
