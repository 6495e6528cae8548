# syntax=docker/dockerfile:1
# One image for every Herald process: `herald api` (default), `herald worker`,
# `herald webhooks-worker`, `herald inbound`, `herald migrate`.
#   docker build -t herald-server .
#   docker run --rm -p 8000:8000 -e HERALD_DATABASE_URL=... -e HERALD_REDIS_URL=... \
#       -e HERALD_SECRET_KEY=... herald-server
ARG PYTHON_VERSION=3.11

# ---- builder: wheels for herald-server and all of its dependencies
FROM python:${PYTHON_VERSION}-slim AS builder
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md ./
COPY service ./service
COPY queue ./queue
RUN pip wheel --wheel-dir /wheels .

# ---- runtime
FROM python:${PYTHON_VERSION}-slim
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
RUN groupadd --system herald \
    && useradd --system --gid herald --create-home --home-dir /home/herald \
        --shell /usr/sbin/nologin herald
COPY --from=builder /wheels /tmp/wheels
RUN pip install --no-index --find-links=/tmp/wheels herald-server \
    && rm -rf /tmp/wheels
USER herald
WORKDIR /home/herald
EXPOSE 8000
# Liveness of the API. The worker and migrate containers have no HTTP server: disable it there
# (compose.yaml does). HERALD_HEALTHCHECK_URL overrides the address.
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen(os.environ.get('HERALD_HEALTHCHECK_URL', 'http://127.0.0.1:8000/healthz'), timeout=4)"]
ENTRYPOINT ["herald"]
CMD ["api", "--host", "0.0.0.0", "--port", "8000"]
