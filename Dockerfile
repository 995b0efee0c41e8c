# One image for the API and the Celery worker (the command differs: `api`, `api-dev`, `worker`,
# `migrate`, or any command). Multi-stage: the build stage installs the exact pins of
# constraints.txt into /opt/venv; the runtime stage copies that venv and the source, runs as an
# unprivileged user and ships the Numba cache compiled at build time (docs/DEPLOYMENT.md).
ARG PYTHON_IMAGE=python:3.11-slim-bookworm

# --- build: dependencies only (this layer changes only with requirements/constraints) ---------
FROM ${PYTHON_IMAGE} AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /build
COPY requirements.txt constraints.txt ./
# --only-binary: every pin has a manylinux wheel; a source build would mean a wrong pin.
RUN pip install --only-binary=:all: -r requirements.txt -c constraints.txt \
    && pip check

# --- runtime ----------------------------------------------------------------------------------
FROM ${PYTHON_IMAGE} AS runtime
# generic: the kernels cached at build time are valid on any x86-64 / aarch64 host, so a new
# container never waits for the JIT. Build with --build-arg NUMBA_CPU_NAME= (empty = the build
# host's CPU) when the image runs on the same CPU type it is built on (AVX2/AVX-512 code).
ARG NUMBA_CPU_NAME=generic
ARG APP_UID=10001
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONPATH=/app \
    NUMBA_CACHE_DIR=/opt/numba-cache \
    NUMBA_CPU_NAME=${NUMBA_CPU_NAME} \
    ENV=production \
    HOST=0.0.0.0 \
    PORT=8000 \
    DATA_DIR=/app/data \
    WEB_CONCURRENCY=1 \
    WORKER_CONCURRENCY=2
RUN groupadd --system --gid ${APP_UID} app \
    && useradd --system --uid ${APP_UID} --gid app --home-dir /app --shell /usr/sbin/nologin app
COPY --from=build /opt/venv /opt/venv
WORKDIR /app
COPY --chown=app:app alembic.ini pyproject.toml ./
COPY --chown=app:app migrations ./migrations
COPY --chown=app:app app ./app
COPY --chown=app:app scripts/warm_numba_cache.py scripts/mint_token.py ./scripts/
COPY --chown=app:app docker/entrypoint.sh docker/healthcheck.py /usr/local/bin/
# Bytecode written at build time (PYTHONDONTWRITEBYTECODE stops it at run time): a container
# then never recompiles the sources at start.
RUN chmod 0755 /usr/local/bin/entrypoint.sh /usr/local/bin/healthcheck.py \
    && python -m compileall -q /app/app /opt/venv/lib >/dev/null \
    && install -d -o app -g app /opt/numba-cache /app/data /tmp/prometheus
USER app
# Compile every engine kernel into NUMBA_CACHE_DIR now (the source files' stamps are those of
# this layer, so the cache stays valid in every container started from the image).
RUN python scripts/warm_numba_cache.py
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "/usr/local/bin/healthcheck.py"]
ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]
CMD ["api"]
