#!/bin/sh
# The demo "application": a few kinds of log line every DEMO_INTERVAL seconds
# (default 5), forever, or DEMO_ITERATIONS times when that is set.
#   text with a level word, a JSON line, a logfmt line, and every third round
#   an ERROR on stderr with a Python traceback.
interval=${DEMO_INTERVAL:-5}
max=${DEMO_ITERATIONS:-0}
i=0
while :; do
  i=$((i + 1))
  now=$(date -u '+%Y-%m-%d %H:%M:%S')
  echo "$now INFO request $i served in 12 ms"
  echo "{\"level\":\"info\",\"msg\":\"cart updated\",\"request\":$i,\"user_id\":42}"
  echo "level=warn msg=\"slow query\" request=$i duration_ms=840"
  if [ $((i % 3)) -eq 0 ]; then
    # One printf, so the message and its traceback arrive in one write, as
    # Python's logger.exception does: logwrap then joins them into one record.
    printf '%s ERROR request %s failed\nTraceback (most recent call last):\n  File "/app/handler.py", line 7, in handle\n    return total / count\nZeroDivisionError: division by zero\n' "$now" "$i" >&2
  fi
  if [ "$max" -gt 0 ] && [ "$i" -ge "$max" ]; then
    exit 0
  fi
  sleep "$interval"
done
