#!/usr/bin/env python3
"""Plays systemd for one kithd run (tests/packaging/package-test.sh).

Starts the command after -- with NOTIFY_SOCKET set to a socket of its own,
and checks, in order: READY=1 arrives; the web page (--web URL) answers 200;
the control socket (--socket) has mode 0660; `CLI --socket SOCK status`
(--cli, a command line that may start with an emulator) exits 0; after
SIGHUP come RELOADING=1 and READY=1 again; after SIGTERM comes STOPPING=1
and the process exits with status 0. kithd's standard error goes to --log.
Exits 1 with one line on the first check that fails.
"""
import argparse
import os
import shlex
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import time
import urllib.request

WAIT = 120  # seconds; emulated CPUs are slow to derive keys


def fail(msg):
    print(f"notify-run: {msg}", file=sys.stderr)
    sys.exit(1)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--log", required=True)
    ap.add_argument("--web", required=True)
    ap.add_argument("--socket", required=True)
    ap.add_argument("--cli", required=True)
    ap.add_argument("cmd", nargs="+")
    a = ap.parse_args()

    sockdir = tempfile.mkdtemp(prefix="kith-notify.")
    path = os.path.join(sockdir, "notify")
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(path)
    env = dict(os.environ, NOTIFY_SOCKET=path)
    with open(a.log, "w") as log:
        p = subprocess.Popen(a.cmd, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=log)
    try:
        run(a, ns, p)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        ns.close()
        os.unlink(path)
        os.rmdir(sockdir)


def wait_for(ns, p, word, what):
    """Reads notify messages until one has the line `word`."""
    deadline = time.monotonic() + WAIT
    while time.monotonic() < deadline:
        ns.settimeout(0.5)
        try:
            msg = ns.recv(4096).decode()
        except socket.timeout:
            if p.poll() is not None:
                fail(f"kithd exited with status {p.returncode} before {what}")
            continue
        if word in msg.split("\n"):
            return
    fail(f"no {word} within {WAIT} s ({what})")


def run(a, ns, p):
    wait_for(ns, p, "READY=1", "it was ready")
    print("READY=1")
    with urllib.request.urlopen(a.web, timeout=30) as r:
        if r.status != 200:
            fail(f"GET {a.web}: {r.status}")
    print(f"GET {a.web}: 200")
    mode = stat.S_IMODE(os.stat(a.socket).st_mode)
    if mode != 0o660:
        fail(f"control socket mode {mode:o}, not 660")
    cli = shlex.split(a.cli) + ["--socket", a.socket, "status"]
    r = subprocess.run(cli, capture_output=True, text=True, timeout=WAIT)
    if r.returncode != 0:
        fail(f"kith status: exit {r.returncode}: {r.stderr.strip()}")
    print("kith status: ok")
    p.send_signal(signal.SIGHUP)
    wait_for(ns, p, "RELOADING=1", "it reloaded")
    wait_for(ns, p, "READY=1", "it was ready again after SIGHUP")
    print("SIGHUP: RELOADING=1, READY=1")
    p.send_signal(signal.SIGTERM)
    wait_for(ns, p, "STOPPING=1", "it stopped")
    try:
        status = p.wait(timeout=WAIT)
    except subprocess.TimeoutExpired:
        fail(f"kithd did not exit within {WAIT} s of SIGTERM")
    if status != 0:
        fail(f"kithd exited with status {status} after SIGTERM")
    print("SIGTERM: STOPPING=1, exit 0")


if __name__ == "__main__":
    main()
