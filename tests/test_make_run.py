"""`make run`'s supervisor (bin/run): Ctrl-C or SIGTERM stops the web server and the worker,
each once and cleanly: no traceback, no crash, nothing left running.

Runs the real processes on a temporary SQLite database and a free port (about 15 seconds)."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
READY = ("Quit the server with", "running.")  # runserver's banner, django-q2's "Cluster … running."


@pytest.fixture(scope="module")
def database(tmp_path_factory):
    path = tmp_path_factory.mktemp("run") / "db.sqlite3"
    env = {**os.environ, "DJANGO_SETTINGS_MODULE": "realtycrm.settings.dev"}
    env["DATABASE_URL"] = f"sqlite:///{path}"
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
        cwd=ROOT,
        env=env,
        check=True,
        capture_output=True,
    )
    return env


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _children(pid: int) -> list[int]:
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == pid:  # the parent's pid
            found.append(int(stat.parent.name))
    return found


def _group_alive(pgid: int) -> bool:
    try:
        os.killpg(pgid, 0)
    except ProcessLookupError:
        return False
    return True


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_web_server_and_worker_stop_cleanly(database, tmp_path, signum):
    log = tmp_path / "run.log"
    env = {**database, "PORT": str(_free_port())}
    with log.open("w") as out:
        # Its own process group, as the shell gives `make run`: the signal goes to the group,
        # as the terminal's Ctrl-C does.
        run = subprocess.Popen(
            [sys.executable, "bin/run"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            process_group=0,
        )
    try:
        deadline = time.monotonic() + 60
        while not all(marker in log.read_text() for marker in READY):
            assert run.poll() is None, log.read_text()
            assert time.monotonic() < deadline, log.read_text()
            time.sleep(0.2)
        children = _children(run.pid)
        assert len(children) == 2  # qcluster and runserver, each leading its own group

        os.killpg(run.pid, signum)
        assert run.wait(timeout=15) == 0, log.read_text()
        output = log.read_text()
        assert "Traceback" not in output and "Segmentation fault" not in output, output
        assert "has stopped." in output  # django-q2 stopped its workers itself
        assert not [pgid for pgid in children if _group_alive(pgid)], output
    finally:
        if run.poll() is None:
            os.killpg(run.pid, signal.SIGKILL)
