"""A small program that logs the way most Python services do.

Standard-library logging, one line per record with a timestamp, a level and
the logger's name; a caught exception logged with its traceback. Runs in well
under a second and exits 0.

    logwrap -- python3 examples/python/app.py
"""

import logging
import sys

# The usual format: logwrap reads the leading time (Python's
# "2026-11-25 15:00:00,123") as the record's Timestamp and the level word
# after it as the severity. basicConfig writes to stderr, so without the
# level word these lines would all be ERROR (logwrap's default for stderr).
logging.basicConfig(
    level=logging.INFO,
    format="%(asctime)s %(levelname)s %(name)s: %(message)s",
)
log = logging.getLogger("shop.orders")


def average(total, count):
    return total / count


def main():
    log.info("service starting, version %s", "1.4.2")
    log.info("loaded %d products from the catalogue", 128)
    log.warning("payment provider slow: %d ms", 1840)
    try:
        average(250, 0)
    except ZeroDivisionError:
        # logger.exception writes the message line followed by the traceback;
        # logwrap joins them into one record.
        log.exception("could not compute the average basket value")
    log.info("order %s shipped", "A-1001")
    # A plain print goes to stdout, with no level word: severity INFO from
    # the stream.
    print("shutting down cleanly", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
