"""Ask a running web or worker process what it has loaded, without DEBUG or a debugger.

Two ways in, both used by bench/peer_compare.py and only there:

- as a gunicorn config file (`gunicorn -c bench/process_probe.py ...`): its `post_request` hook
  runs in the real worker after every request; for the path /__probe__ (a 404 to the app) it
  appends one JSON line to $PROBE_FILE: the worker's pid, VmRSS, PSS and the heavy modules it
  has imported. Works for any WSGI app, so the peer's workers answer the same question.
- as a django-q2 task (`bench.process_probe.report`): a qcluster worker that runs it appends the
  same line about itself.

Only the standard library, so the peer's virtualenv can load it too.
"""

import json
import os
import re
import sys
from pathlib import Path

# Module names worth knowing about: the phone library's geocoder (tens of MB of prefix data) and
# the big third-party packages only one view or backend needs.
WATCHED = (
    "phonenumbers",
    "phonenumbers.geocoder",
    "phonenumbers.geodata",
    "phonenumbers.carrier",
    "phonenumbers.timezone",
    "twilio.rest",
    "sendgrid",
    "openpyxl",
    "icalendar",
    "ninja",
    "pydantic",
    "cryptography.hazmat.bindings._rust",  # the library itself (redis imports only its name)
    "pywebpush",
    "py_vapid",
    "redis",
    "requests",
    "numpy",
    "pandas",
)


def memory(pid: int | str = "self") -> dict[str, float]:
    """VmRSS and PSS (and private memory) in MB from /proc; PSS needs smaps_rollup (Linux 4.14+)."""
    found: dict[str, float] = {}
    status = Path(f"/proc/{pid}/status").read_text()
    found["rss"] = int(re.search(r"VmRSS:\s+(\d+)", status).group(1)) / 1024
    try:
        rollup = Path(f"/proc/{pid}/smaps_rollup").read_text()
    except OSError:
        return found
    fields = {k: int(v) for k, v in re.findall(r"^(\w+):\s+(\d+) kB", rollup, re.M)}
    found["pss"] = fields.get("Pss", 0) / 1024
    found["private"] = (fields.get("Private_Clean", 0) + fields.get("Private_Dirty", 0)) / 1024
    return found


def snapshot(role: str) -> dict:
    loaded = sys.modules
    return {
        "role": role,
        "pid": os.getpid(),
        "ppid": os.getppid(),
        "modules": len(loaded),
        "watched": [name for name in WATCHED if name in loaded],
        **memory(),
    }


def _append(line: dict) -> None:
    path = os.environ.get("PROBE_FILE")
    if path:
        with open(path, "a", encoding="utf-8") as out:
            out.write(json.dumps(line) + "\n")


def report(role: str = "qcluster worker") -> int:
    """The django-q2 task: describe the worker process that runs it."""
    _append(snapshot(role))
    return os.getpid()


def post_request(worker, req, environ, resp):  # gunicorn server hook
    if environ.get("PATH_INFO") == "/__probe__":
        _append(snapshot("gunicorn worker"))
