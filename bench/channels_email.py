"""Portal-email inbox: parses per second, and end-to-end posts per second.

    .venv/bin/python bench/channels_email.py [--iterations 200] [--repeats 5] [--posts 100]

1. Parse, in-process, no database: each sample email of tests/integrations/fixtures/email/ read
   from its raw MIME bytes to the mapped lead (email_from_mime → Lead Metadata / portal parser →
   lead_mapping), `iterations` times per repeat; the median rate per fixture and for the whole
   mix over `repeats`, with the slowest and fastest repeat as the spread.
2. End to end: `posts` raw-MIME posts (each a fresh Message-ID and person, so each makes a new
   lead) through the Django test client to /inbound/email/<token>/: store, read, dedupe, route,
   acknowledgment and alert written, on a temporary SQLite test database with the test settings
   (tasks inline), first ten left out as warm-up. Prints posts/s and the latency percentiles.
"""

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
os.environ["DJANGO_SETTINGS_MODULE"] = "realtycrm.settings.test"
os.environ.pop("DATABASE_URL", None)

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402
from django.test.runner import DiscoverRunner  # noqa: E402
from django.test.utils import setup_test_environment  # noqa: E402

from integrations.email.mapping import lead_mapping  # noqa: E402
from integrations.email.mime import email_from_mime  # noqa: E402
from integrations.email.reader import lead_read  # noqa: E402
from leads.models import Lead, Submission  # noqa: E402
from tests.factories import AgentFactory  # noqa: E402
from tests.integrations.email_helpers import FIXTURES, post_email, raw_post  # noqa: E402

WARM_UP = 10


def parse(raw: bytes):
    email = email_from_mime(raw)
    reading = lead_read(email)
    return lead_mapping(reading.lead or reading.partial, reading.email or email, None)


def bench_parse(iterations: int, repeats: int) -> None:
    samples = {path.name: path.read_bytes() for path in sorted(FIXTURES.glob("*.eml"))}
    print(
        f"Parse: {len(samples)} sample emails, {iterations} parses each per repeat, {repeats} repeats"
    )
    mix = []
    for name, raw in samples.items():
        parse(raw)  # warm: regexes compiled, modules loaded
        rates = []
        for _ in range(repeats):
            started = time.perf_counter()
            for _ in range(iterations):
                parse(raw)
            rates.append(iterations / (time.perf_counter() - started))
        print(
            f"  {name:34} {len(raw) / 1024:5.1f} KB  {statistics.median(rates):7.0f} parses/s"
            f"  (repeats {min(rates):.0f}–{max(rates):.0f})"
        )
    for _ in range(repeats):
        started = time.perf_counter()
        for _ in range(iterations):
            for raw in samples.values():
                parse(raw)
        mix.append(iterations * len(samples) / (time.perf_counter() - started))
    print(
        f"  {'all, mixed':34} {'':8}  {statistics.median(mix):7.0f} parses/s"
        f"  (repeats {min(mix):.0f}–{max(mix):.0f})"
    )


def _message(template: bytes, n: int) -> bytes:
    """The Zillow tour request as another person's, with its own Message-ID."""
    return (
        template.replace(
            b"20261201153012.4f7a9c1e2b@mail.zillow.com", f"bench-{n}@mail.zillow.com".encode()
        )
        .replace(b"jordan.ellis@example.net", f"prospect{n}@example.net".encode())
        .replace(b"(413) 555-0142", f"(413) 555-{1000 + n:04d}".encode())
    )


def bench_posts(posts: int) -> None:
    setup_test_environment()
    runner = DiscoverRunner(verbosity=0)
    databases = runner.setup_databases()
    try:
        AgentFactory(), AgentFactory()
        client = Client()
        template = (FIXTURES / "zillow_tour_request.eml").read_bytes()
        seconds = []
        started_all = time.perf_counter()
        for n in range(posts):
            data = raw_post(_message(template, n))
            started = time.perf_counter()
            response = post_email(client, data)
            seconds.append(time.perf_counter() - started)
            if response.status_code != 200 or response.json()["status"] != "created":
                raise SystemExit(f"post {n}: {response.status_code} {response.content[:200]!r}")
        total = time.perf_counter() - started_all
        if Lead.objects.count() != posts or Submission.objects.count() != posts:
            raise SystemExit("not every post was stored and made a lead")
        timed = sorted(seconds[WARM_UP:])
        decile = len(timed) // 10
        print(f"End to end: {posts} raw-MIME posts, test client, SQLite, tasks inline")
        print(f"  {posts / total:.1f} posts/s overall; every post stored and made a lead")
        print(
            f"  per post: median {statistics.median(timed) * 1000:.1f} ms, "
            f"p10 {timed[decile] * 1000:.1f} ms, p90 {timed[-decile - 1] * 1000:.1f} ms "
            f"(first {WARM_UP} left out)"
        )
    finally:
        runner.teardown_databases(databases)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--iterations", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--posts", type=int, default=100)
    args = parser.parse_args()
    bench_parse(max(args.iterations, 1), max(args.repeats, 1))
    bench_posts(max(args.posts, WARM_UP + 10))


if __name__ == "__main__":
    main()
