// A small program that logs JSON lines, the way pino/bunyan-style services do,
// with no npm dependencies. Runs in well under a second and exits 0.
//
//   logwrap -- node examples/node/app.js
//
// logwrap takes the message from "msg", the severity from "level", the
// Timestamp from "time", TraceId/SpanId from "trace_id"/"span_id", and turns
// every other field ("user_id", "err", ...) into an attribute.

"use strict";

// Fixed ids, as a tracing library would put them on a log line.
const TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736";
const SPAN_ID = "00f067aa0ba902b7";

function log(stream, level, msg, fields) {
  const line = JSON.stringify({
    level,
    msg,
    time: new Date().toISOString(),
    trace_id: TRACE_ID,
    span_id: SPAN_ID,
    ...fields,
  });
  if (stream === "stderr") {
    console.error(line);
  } else {
    console.log(line);
  }
}

log("stdout", "info", "checkout started", { user_id: 42, cart: { items: 3, total: 59.9 } });
log("stdout", "warn", "coupon expired, charging full price", { user_id: 42, coupon: "SPRING24" });

try {
  JSON.parse("{not json");
} catch (err) {
  // The stack stays inside the JSON field, so the whole error is one line and
  // one record; logwrap keeps it as the attribute "err".
  log("stderr", "error", "could not read the saved cart", {
    user_id: 42,
    err: { type: err.name, message: err.message, stack: err.stack },
  });
}

log("stdout", "info", "checkout finished", { user_id: 42, duration_ms: 87 });
