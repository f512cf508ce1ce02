"""Benchmark load generator: writes N lines of a realistic mix to stdout.

The mix (about 120 bytes a line): plain text with a level, JSON objects,
logfmt, and unstructured text, in rotation. Timestamps are of the current
second (as a live program's are), so logwrap uses them as the records' time
instead of keeping a stale one as an attribute. Lines are prepared once and written
in large blocks, so the generator itself costs little CPU.

If LOGWRAP_BENCH_WALL is set, the generator writes its own wall time in
seconds to that file when done.
"""
import os
import sys
import time
from datetime import datetime, timezone

n = int(sys.argv[1])
now = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S")
templates = [
    "{now}.{i:06d}Z INFO  [main] com.example.api.Handler - request done path=/v1/orders status=200 bytes=5120",
    '{{"ts":"{now}.{i:06d}Z","level":"warn","msg":"slow query","table":"orders","ms":{ms},"user":"u{u}","region":"eu1"}}',
    'time={now}.{i:06d}Z level=error msg="upstream failed" service=billing attempt={a} err="connection reset"',
    "worker {u} processed batch {i} of queue emails in {ms} ms; {a} retries; next poll in 250 ms; all good here, nothing to report",
]
block_lines = 10_000
block = []
for i in range(block_lines):
    t = templates[i % len(templates)]
    line = t.format(now=now, i=i, ms=i % 997, u=i % 89, a=i % 5)
    block.append(line)
data = ("\n".join(block) + "\n").encode()

out = sys.stdout.buffer
start = time.monotonic()
full, rest = divmod(n, block_lines)
for _ in range(full):
    out.write(data)
if rest:
    out.write(("\n".join(block[:rest]) + "\n").encode())
out.flush()
wall = time.monotonic() - start
path = os.environ.get("LOGWRAP_BENCH_WALL")
if path:
    with open(path, "w") as f:
        f.write(f"{wall}\n")
