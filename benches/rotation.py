#!/usr/bin/env python3
"""File-following benchmark: an application writes LINES lines at RATE lines/s
to app.log, one write(2) per line, while a rotator rotates the file every
EVERY seconds; logwrap --input follows app.log and writes what it reads to a
file (--file). Reports how many of the lines arrived, which were lost, and logwrap's CPU time.
Not part of the test suite (tests/follow.rs is the small, reliable version).

  rename:        the rotator renames app.log to app.log.1 (older ones shift
                 up to app.log.5) and the application opens a new app.log at
                 once (logrotate's `create` plus a reopen signal)
  copytruncate:  the rotator copies app.log to app.log.1 and truncates it in
                 place while the application goes on writing (logrotate's
                 `copytruncate`), in its own thread as logrotate is its own
                 process

    cargo build --release
    python3 benches/rotation.py rename --rate 30000 --every 0.7
    python3 benches/rotation.py copytruncate --rate 10000 --every 2.5 --runs 4
"""
import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "logwrap")
KEEP = 5


def shift(log):
    """app.log.4 -> app.log.5, ..., app.log.1 -> app.log.2 (the oldest goes)."""
    for n in range(KEEP - 1, 0, -1):
        older = f"{log}.{n}"
        if os.path.exists(older):
            os.replace(older, f"{log}.{n + 1}")


def run(style, rate, every, lines, binary):
    workdir = tempfile.mkdtemp(prefix="logwrap-rotation-")
    log = os.path.join(workdir, "app.log")
    out = os.path.join(workdir, "records.ndjson")
    fd = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
    logwrap = subprocess.Popen(
        [binary, "--input", f"file:{workdir}/*.log", "--file", out,
         "--no-lifecycle", "-q", "--when-full", "block"],
        stdin=subprocess.DEVNULL,
    )
    # logwrap reads files found at start from the beginning, so nothing
    # written before it looks is lost; a short pause lets it set up.
    time.sleep(0.3)

    state = {"fd": fd, "rotations": 0}
    lock = threading.Lock()
    done = threading.Event()

    def rotator():
        next_at = time.monotonic() + every
        while not done.wait(max(0.0, next_at - time.monotonic())):
            next_at += every
            if style == "rename":
                with lock:  # the application reopens right after the rename
                    shift(log)
                    os.rename(log, f"{log}.1")
                    new = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o644)
                    os.close(state["fd"])
                    state["fd"] = new
            else:
                shift(log)
                shutil.copyfile(log, f"{log}.1")
                os.truncate(log, 0)
            state["rotations"] += 1

    thread = threading.Thread(target=rotator)
    thread.start()
    pad = "x" * 100
    start = time.monotonic()
    per_ms = rate / 1000.0
    i = 0
    while i < lines:
        # Paced per millisecond, one write(2) per line.
        due = min(lines, int((time.monotonic() - start) * 1000 * per_ms) + 1)
        while i < due:
            data = f"line {i} {pad}\n".encode()
            with lock:
                os.write(state["fd"], data)
            i += 1
        time.sleep(0.0005)
    elapsed = time.monotonic() - start
    done.set()
    thread.join()
    # Let logwrap read the last writes, then stop it (it reads every file to
    # its end before exiting).
    time.sleep(1.0)
    logwrap.send_signal(signal.SIGTERM)
    _, _, usage = os.wait4(logwrap.pid, 0)
    logwrap.returncode = 0  # reaped above
    os.close(state["fd"])

    seen = set()
    with open(out) as f:
        for record in f:
            body = json.loads(record).get("body", "")
            if body.startswith("line "):
                seen.add(int(body.split()[1]))
    lost = [n for n in range(lines) if n not in seen]
    shutil.rmtree(workdir)
    return {
        "rate": lines / elapsed,
        "rotations": state["rotations"],
        "arrived": len(seen),
        "lost": lost,
        "cpu": usage.ru_utime + usage.ru_stime,
    }


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("style", choices=["rename", "copytruncate"])
    parser.add_argument("--rate", type=int, default=30000, help="lines per second")
    parser.add_argument("--every", type=float, default=0.7, help="seconds between rotations")
    parser.add_argument("--lines", type=int, default=100000)
    parser.add_argument("--runs", type=int, default=1)
    parser.add_argument("--binary", default=BINARY)
    args = parser.parse_args()
    if not os.path.exists(args.binary):
        sys.exit(f"{args.binary} not found: cargo build --release first")
    for n in range(args.runs):
        r = run(args.style, args.rate, args.every, args.lines, args.binary)
        lost = r["lost"]
        where = ""
        if lost:
            runs, first, prev = [], lost[0], lost[0]
            for x in lost[1:] + [None]:
                if x != prev + 1 if x is not None else True:
                    runs.append(f"{first}-{prev}" if first != prev else f"{first}")
                    if x is not None:
                        first = x
                prev = x if x is not None else prev
            where = " (lost: " + ", ".join(runs[:10]) + (" ..." if len(runs) > 10 else "") + ")"
        print(
            f"{args.style} run {n + 1}: {r['rate']:,.0f} lines/s, {r['rotations']} rotations, "
            f"{r['arrived']:,} of {args.lines:,} arrived "
            f"({100.0 * r['arrived'] / args.lines:.2f}%), logwrap CPU {r['cpu']:.2f} s{where}"
        )


if __name__ == "__main__":
    main()
