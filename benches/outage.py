#!/usr/bin/env python3
"""Fault benchmarks against the release binary, for figures in notes and the
README (not part of the test suite).

  outage:   a collector that is down for the whole run while the child writes
            RATE lines/s for SECONDS; samples logwrap's RSS every 100 ms and
            reports the peak against --buffer-max-bytes, and what was dropped.
  retry:    a collector that answers 429 with Retry-After: 2 three times, then
            200; prints when each request arrived.
  steady:   a collector that is up while the child writes RATE lines/s for
            SECONDS; reports logwrap's own CPU time as a share of one core.

    cargo build --release
    python3 benches/outage.py outage --rate 50000 --seconds 300
    python3 benches/outage.py retry
    python3 benches/outage.py steady --rate 1000 --seconds 30
"""
import argparse
import http.server
import os
import re
import socket
import subprocess
import sys
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BINARY = os.path.join(ROOT, "target", "release", "logwrap")

# The child: RATE lines/s of ~100 bytes, written every 10 ms.
GENERATOR = r"""
import os, sys, time
rate, seconds = int(sys.argv[1]), float(sys.argv[2])
per_tick = max(1, rate // 100)
pad = "x" * 80
start = time.monotonic()
i = 0
tick = 0
while time.monotonic() - start < seconds:
    lines = "".join(f"line {j} {pad}\n" for j in range(i, i + per_tick)).encode()
    view = memoryview(lines)
    while view:
        view = view[os.write(1, view):]
    i += per_tick
    tick += 1
    delay = start + tick * 0.01 - time.monotonic()
    if delay > 0:
        time.sleep(delay)
with open(sys.argv[3], "w") as f:
    f.write(f"{i}\n")
"""


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_kib(pid):
    try:
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
    except FileNotFoundError:
        return None
    return None


def outage(args):
    endpoint = f"http://127.0.0.1:{free_port()}"
    count_file = f"/tmp/logwrap-outage-{os.getpid()}.count"
    cmd = [
        BINARY, "--otlp-endpoint", endpoint, "--no-passthrough",
        "--buffer-max-bytes", args.buffer_max_bytes, "--shutdown-timeout", "2s",
        "--", sys.executable, "-c", GENERATOR, str(args.rate), str(args.seconds), count_file,
    ]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, stderr=subprocess.PIPE, text=True)
    peak = 0
    samples = []
    while proc.poll() is None:
        rss = rss_kib(proc.pid)
        if rss:
            peak = max(peak, rss)
            samples.append(rss)
        time.sleep(0.1)
    err = proc.stderr.read()
    elapsed = time.monotonic() - started
    with open(count_file) as f:
        written = f.read().strip()
    os.unlink(count_file)
    lost = re.search(r" lost=(\d+)", err)
    print(f"outage: {args.rate} lines/s for {args.seconds} s, collector down, "
          f"--buffer-max-bytes {args.buffer_max_bytes}")
    print(f"  ran {elapsed:.1f} s, exit {proc.returncode}")
    print(f"  lines written: {written} (plus logwrap's start and exit events), "
          f"counted lost: {lost.group(1) if lost else '0'}")
    print(f"  RSS: peak {peak / 1024:.1f} MiB, median {sorted(samples)[len(samples) // 2] / 1024:.1f} MiB "
          f"over {len(samples)} samples")
    for line in err.splitlines():
        if "records were not delivered" in line or "dropped" in line:
            print("  " + line[:300])


class Throttling(http.server.BaseHTTPRequestHandler):
    answers = []
    arrivals = []

    def do_POST(self):
        self.rfile.read(int(self.headers.get("content-length", 0)))
        Throttling.arrivals.append(time.monotonic())
        status, retry_after = Throttling.answers.pop(0) if Throttling.answers else (200, None)
        self.send_response(status)
        if retry_after:
            self.send_header("retry-after", retry_after)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, *_):
        pass


def retry(args):
    Throttling.answers = [(429, "2")] * 3
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Throttling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    started = time.monotonic()
    proc = subprocess.run(
        [BINARY, "--otlp-endpoint", endpoint, "--no-lifecycle", "--shutdown-timeout", "30s",
         "--", "echo", "one line"],
        capture_output=True, text=True)
    print(f"retry timeline: 429 + Retry-After: 2 three times, then 200 (exit {proc.returncode})")
    previous = started
    for n, at in enumerate(Throttling.arrivals):
        print(f"  request {n + 1}: +{at - started:.3f} s (gap {at - previous:.3f} s)")
        previous = at
    print(f"  logwrap ended at +{time.monotonic() - started:.3f} s")
    server.shutdown()


def steady(args):
    Throttling.answers = []
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Throttling)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    endpoint = f"http://127.0.0.1:{server.server_address[1]}"
    count_file = f"/tmp/logwrap-steady-{os.getpid()}.count"
    proc = subprocess.Popen(
        [BINARY, "--otlp-endpoint", endpoint, "--no-passthrough", "-q",
         "--", sys.executable, "-c", GENERATOR, str(args.rate), str(args.seconds), count_file])
    cpu = None
    while True:
        try:
            with open(f"/proc/{proc.pid}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            break
        # State is fields[0]; utime and stime are fields 11 and 12 after it.
        if fields[0] == "Z":
            cpu = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
            break
        time.sleep(0.05)
    proc.wait()
    with open(count_file) as f:
        written = f.read().strip()
    os.unlink(count_file)
    print(f"steady: {args.rate} lines/s for {args.seconds} s, collector up")
    print(f"  lines written: {written}, requests received: {len(Throttling.arrivals)}")
    print(f"  logwrap CPU: {cpu:.2f} s = {100 * cpu / args.seconds:.2f}% of one core")
    server.shutdown()


def main():
    parser = argparse.ArgumentParser()
    sub = parser.add_subparsers(dest="mode", required=True)
    o = sub.add_parser("outage")
    o.add_argument("--rate", type=int, default=50000)
    o.add_argument("--seconds", type=float, default=300)
    o.add_argument("--buffer-max-bytes", default="16MiB")
    sub.add_parser("retry")
    s = sub.add_parser("steady")
    s.add_argument("--rate", type=int, default=1000)
    s.add_argument("--seconds", type=float, default=30)
    args = parser.parse_args()
    {"outage": outage, "retry": retry, "steady": steady}[args.mode](args)


if __name__ == "__main__":
    main()
