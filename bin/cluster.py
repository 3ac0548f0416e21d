#!/usr/bin/env python3
"""`make cluster`: the several-machines topology (docs/deployment.md) on this one machine.

    nginx on PROXY_PORT (8820) ──┬── gunicorn "web-a" on 8821 (WEB_WORKERS sync workers)
                                 └── gunicorn "web-b" on 8822
    manage.py qcluster "worker-a"   the one scheduler (Q_SCHEDULER=true)
    manage.py qcluster "worker-b"   workers only (Q_SCHEDULER=false)

all on DATABASE_URL (PostgreSQL by default: realtycrm_cluster) and REDIS_URL (the shared cache
that holds the per-IP limits; DB 0 by default), with the production settings. On several hosts
each box runs one gunicorn and/or one qcluster from the same environment; only one qcluster
keeps Q_SCHEDULER on (django-q2 1.11 runs the scheduler in every cluster unless told not to).

nginx's configuration is written to a temporary directory (nothing is installed or left
behind); it forwards X-Forwarded-For, so the web processes run with TRUSTED_PROXY_COUNT=1 and
the rate limits count the real client address.

Every child runs in a process group of its own. Ctrl-C or SIGTERM asks each to stop exactly
once (gunicorn's and nginx's masters and qcluster's main process stop their own workers), waits
STOP_SECONDS, then kills whatever is left. If any child ends on its own, everything stops.

    .venv/bin/python bin/cluster.py [--no-setup]
    make cluster  (DATABASE_URL=… REDIS_URL=… PROXY_PORT=… to change them)

bench/burst.py starts the same topology through `Cluster` (below) with its own environment.
"""

import argparse
import contextlib
import os
import secrets
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
STOP_SECONDS = 15

NGINX_CONF = """\
worker_processes 1;
daemon off;
pid {dir}/nginx.pid;
error_log {dir}/nginx-error.log warn;
events {{ worker_connections 1024; }}
http {{
    access_log off;
    client_body_temp_path {dir}/body;
    proxy_temp_path {dir}/proxy;
    fastcgi_temp_path {dir}/fastcgi;
    uwsgi_temp_path {dir}/uwsgi;
    scgi_temp_path {dir}/scgi;
    client_max_body_size 30m;
    upstream realtycrm {{
{servers}
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{port};
        location / {{
            proxy_pass http://realtycrm;
            proxy_http_version 1.1;
            proxy_set_header Connection "";
            proxy_set_header Host $http_host;
            proxy_set_header X-Forwarded-For $proxy_add_x_forwarded_for;
            proxy_set_header X-Forwarded-Proto $scheme;
            proxy_read_timeout 60s;
            add_header X-Upstream $upstream_addr always;  # which web process answered
        }}
    }}
}}
"""


def cluster_env(base: dict | None = None, **overrides: str) -> dict:
    """The environment every process of the topology shares (production settings, plain http
    on the loopback). Values already in `base` (os.environ by default) win over the defaults;
    `overrides` win over both."""
    base = dict(os.environ if base is None else base)
    port = base.get("PROXY_PORT", "8820")
    defaults = {
        "DJANGO_SETTINGS_MODULE": "realtycrm.settings.production",
        "SECRET_KEY": secrets.token_urlsafe(60),
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{port}",
        "DATABASE_URL": "postgres://postgres@127.0.0.1:5432/realtycrm_cluster",
        "REDIS_URL": "redis://127.0.0.1:6379/0",
        "SECURE_SSL_REDIRECT": "false",
        "SECURE_HSTS_SECONDS": "0",
        "TRUSTED_PROXY_COUNT": "1",  # nginx appends the client's address
        "PYTHONPATH": str(ROOT),
    }
    return {**defaults, **base, **overrides}


class Cluster:
    """Two gunicorns, two qclusters (one scheduling) and nginx in front, as child processes."""

    def __init__(
        self,
        env: dict,
        *,
        proxy_port: int = 8820,
        web_ports: tuple[int, ...] = (8821, 8822),
        web_workers: int = 3,
        clusters: int = 2,
        logs: Path | None = None,
    ):
        self.env = env
        self.proxy_port, self.web_ports = proxy_port, web_ports
        self.web_workers, self.clusters = web_workers, clusters
        self.tmp = Path(tempfile.mkdtemp(prefix="realtycrm-cluster-"))
        self.logs = logs or self.tmp
        self.logs.mkdir(parents=True, exist_ok=True)
        self.children: dict[str, subprocess.Popen] = {}

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.proxy_port}"

    # --- Start ---------------------------------------------------------------------------------

    def manage(self, *args: str) -> None:
        with (self.logs / "setup.log").open("a") as log:
            subprocess.run(
                [sys.executable, "manage.py", *args],
                cwd=ROOT,
                env=self.env,
                check=True,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def setup(self) -> None:
        """Migrations, static files (production serves the manifest's names), schedules."""
        self.manage("migrate", "--no-input", "-v", "0")
        self.manage("collectstatic", "--no-input", "-v", "0")
        self.manage("setup_schedules")

    def _spawn(self, name: str, command: list[str], env: dict) -> None:
        log = (self.logs / f"{name}.log").open("a")
        self.children[name] = subprocess.Popen(
            command,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            process_group=0,
        )

    def start(self) -> "Cluster":
        for letter, port in zip("abcdefgh", self.web_ports, strict=False):
            self._spawn(
                f"web-{letter}",
                [
                    str(BIN / "gunicorn"),
                    "realtycrm.wsgi",
                    f"--bind=127.0.0.1:{port}",
                    f"--workers={self.web_workers}",
                    "--timeout=30",
                    "--graceful-timeout=5",
                ],
                self.env,
            )
        for number in range(self.clusters):
            # One scheduler: django-q2 calls it from every cluster's guard loop unless told not
            # to (django_q/cluster.py, Conf.SCHEDULER). Its select_for_update would keep two
            # from running one schedule twice on PostgreSQL, but one is simpler to reason about.
            env = {**self.env, "Q_SCHEDULER": "true" if number == 0 else "false"}
            self._spawn(
                f"worker-{'abcdefgh'[number]}", [sys.executable, "manage.py", "qcluster"], env
            )
        nginx = shutil.which("nginx") or "/usr/sbin/nginx"
        servers = "\n".join(f"        server 127.0.0.1:{port};" for port in self.web_ports)
        conf = self.tmp / "nginx.conf"
        conf.write_text(NGINX_CONF.format(dir=self.tmp, servers=servers, port=self.proxy_port))
        self._spawn("proxy", [nginx, "-p", str(self.tmp), "-c", str(conf)], self.env)
        return self

    def wait_ready(self, seconds: float = 60) -> None:
        """Until every web process answers /healthz through the proxy (and directly)."""
        deadline = time.monotonic() + seconds
        urls = [
            f"http://127.0.0.1:{port}/healthz?skip=scheduler"
            for port in (*self.web_ports, self.proxy_port)
        ]
        for url in urls:
            while True:
                if self.dead():
                    raise SystemExit(f"{', '.join(self.dead())} stopped: see {self.logs}")
                with (
                    contextlib.suppress(OSError),
                    urllib.request.urlopen(url, timeout=2) as answer,  # noqa: S310
                ):
                    if answer.status == 200:
                        break
                if time.monotonic() > deadline:
                    raise SystemExit(f"{url} did not answer: see {self.logs}")
                time.sleep(0.2)

    # --- Stop ----------------------------------------------------------------------------------

    def dead(self) -> list[str]:
        return [name for name, child in self.children.items() if child.poll() is not None]

    def _signal(self, child: subprocess.Popen, signum: int, *, group: bool) -> None:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            if group:
                os.killpg(child.pid, signum)
            else:
                child.send_signal(signum)

    def stop(self, *, hurry: list | None = None) -> None:
        """SIGTERM each child's main process once (it stops its own workers), then SIGKILL the
        groups of whatever is left after STOP_SECONDS (or when `hurry` grows: a second Ctrl-C).
        """
        for child in self.children.values():
            if child.poll() is None:
                self._signal(child, signal.SIGTERM, group=False)
        deadline, asked = time.monotonic() + STOP_SECONDS, len(hurry or [])
        while any(child.poll() is None for child in self.children.values()):
            if time.monotonic() > deadline or len(hurry or []) > max(asked, 1):
                for name, child in self.children.items():
                    if child.poll() is None:
                        print(f"bin/cluster: killing {name}", file=sys.stderr)
                        self._signal(child, signal.SIGKILL, group=True)
            time.sleep(0.1)
        for child in self.children.values():  # any worker left behind by a killed master
            self._signal(child, signal.SIGKILL, group=True)
        if self.logs != self.tmp:
            shutil.rmtree(self.tmp, ignore_errors=True)

    def __enter__(self) -> "Cluster":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description="The multi-host topology on this machine.")
    parser.add_argument("--no-setup", action="store_true", help="skip migrate/collectstatic")
    parser.add_argument("--web-workers", type=int, default=int(os.environ.get("WEB_WORKERS", 3)))
    args = parser.parse_args()
    env = cluster_env()
    proxy = int(env.get("PROXY_PORT", "8820"))
    web = tuple(int(p) for p in env.get("WEB_PORTS", f"{proxy + 1},{proxy + 2}").split(","))
    requested: list[int] = []
    for signum in (signal.SIGINT, signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, lambda signum, frame: requested.append(signum))
    logs = ROOT / "bench" / "results" / "cluster"
    cluster = Cluster(env, proxy_port=proxy, web_ports=web, web_workers=args.web_workers, logs=logs)
    if not args.no_setup:
        cluster.setup()
    cluster.start()
    try:
        cluster.wait_ready()
    except SystemExit as problem:
        print(f"bin/cluster: {problem}", file=sys.stderr)
        cluster.stop()
        return 1
    print(
        f"RealtyCRM cluster: {cluster.url}/  (nginx → gunicorn on {', '.join(map(str, web))}; "
        f"two qclusters, worker-a schedules; logs in {logs}; Ctrl-C stops everything)",
        flush=True,
    )
    while not requested and not cluster.dead():
        time.sleep(0.2)
    if cluster.dead() and not requested:
        print(
            f"bin/cluster: {', '.join(cluster.dead())} stopped; stopping the rest", file=sys.stderr
        )
    cluster.stop(hurry=requested)
    print("bin/cluster: stopped.", file=sys.stderr)
    return 0 if requested else 1


if __name__ == "__main__":
    sys.exit(main())
