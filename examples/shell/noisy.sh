#!/bin/sh
# A shell script that writes a bit of everything, on both streams, then fails.
# Runs in well under a second and exits 3, which logwrap passes on.
#
#   logwrap -- sh examples/shell/noisy.sh

echo "starting nightly export"
echo "exported 1200 rows to /tmp/export.csv"
# An ERROR word at the start of a line sets the severity, whatever the stream.
echo "ERROR upload to s3://backups/nightly failed: connection reset" >&2
# A logfmt line: level, msg and the other pairs become fields.
echo 'level=warn msg="disk almost full" pct=91'
# Colours: kept in the pass-through, stripped from the record's body.
printf '\033[1;32mOK\033[0m checksum verified\n'
# Plain stderr with no level word: ERROR, logwrap's default for stderr.
echo "giving up after 3 attempts" >&2
exit 3
