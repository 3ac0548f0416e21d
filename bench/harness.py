"""What the benchmarks that start the app share: a fresh PostgreSQL database, gunicorn started
and stopped as a process group, a process's descendants, waiting for /healthz, and the
percentile they print."""

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


def fresh_postgres(url: str) -> None:
    """Drop and create the database `url` names (its server's `postgres` database does it)."""
    import psycopg

    server, name = url.rsplit("/", 1)
    with psycopg.connect(f"{server}/postgres", autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def start_gunicorn(env: dict, port: int, workers: int) -> subprocess.Popen:
    """gunicorn serving the app on 127.0.0.1:`port`, in a process group of its own (stop)."""
    return subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "realtycrm.wsgi",
            *("--bind", f"127.0.0.1:{port}", "--workers", str(workers), "--timeout", "60"),
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )


def stop(process: subprocess.Popen) -> None:
    """SIGTERM the process's group, SIGKILL it if it is still there after 30 s."""
    try:
        os.killpg(process.pid, signal.SIGTERM)
        process.wait(timeout=30)
    except ProcessLookupError:
        pass  # the group is gone already
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


def children(pid: int) -> list[int]:
    """A process's children's pids, from /proc (none once it is gone)."""
    try:
        text = Path(f"/proc/{pid}/task/{pid}/children").read_text()
    except OSError:
        return []
    return [int(part) for part in text.split()]


def descendants(pid: int) -> list[int]:
    found, todo = [], [pid]
    while todo:
        for child in children(todo.pop()):
            found.append(child)
            todo.append(child)
    return found


def wait_for_server(base: str, *, tries: int = 150, timeout: float = 5) -> None:
    """Until `base`/healthz answers, every 0.2 s."""
    for _ in range(tries):
        try:
            if requests.get(f"{base}/healthz", timeout=timeout).ok:
                return
        except requests.RequestException:
            pass  # not listening yet, or its workers still booting
        time.sleep(0.2)
    raise SystemExit("the web server did not start")


def percentile(values, fraction: float) -> float:
    """The nearest-rank percentile (`fraction` 0.95 for p95); NaN of nothing."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]
