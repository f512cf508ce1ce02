# syntax=docker/dockerfile:1
#
# Put logwrap in front of the program of an image you already have: copy the
# binary in, make it the ENTRYPOINT, keep your command as CMD.
#
#   docker build -f deploy/Dockerfile -t logwrap .                  (once)
#   docker build -f deploy/add-to-your-image.Dockerfile -t logwrap-example .
#   docker run --rm logwrap-example                                  (records as JSON on stdout)
#   docker run --rm -e OTEL_EXPORTER_OTLP_ENDPOINT=http://collector:4318 logwrap-example
#
# The example below wraps examples/python/app.py in the official Python image;
# for your own image, change APP_IMAGE, the COPY of the app and the CMD.

ARG LOGWRAP_IMAGE=logwrap:latest
ARG APP_IMAGE=python:3.13-slim

FROM ${LOGWRAP_IMAGE} AS logwrap

FROM ${APP_IMAGE}
# The one line that matters: a static binary, so it runs on any Linux base
# (Debian, Alpine, distroless) of the same CPU architecture.
COPY --from=logwrap /usr/local/bin/logwrap /usr/local/bin/logwrap

COPY examples/python/app.py /app/app.py
# logwrap runs as PID 1 (it reaps orphans and forwards signals) and starts CMD.
# If the base image has an ENTRYPOINT of its own (e.g. docker-entrypoint.sh),
# keep it after the "--": ENTRYPOINT ["logwrap", "--", "docker-entrypoint.sh"].
ENTRYPOINT ["logwrap", "--"]
CMD ["python3", "/app/app.py"]
