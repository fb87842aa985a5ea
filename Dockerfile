# rizhilu (日知录) container image.
#   docker build -t rizhilu .
#   docker run -d --name rizhilu --env-file .env -v rizhilu-data:/data rizhilu
# Everything the bot keeps (the SQLite journal and the photos) lives in the /data volume.
ARG PYTHON_VERSION=3.11

# --- build: install the package and its dependencies into a virtualenv -----------------
FROM python:${PYTHON_VERSION}-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/rizhilu
WORKDIR /src
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY storage ./storage
RUN /opt/rizhilu/bin/pip install .

# --- run: the virtualenv on a clean slim image, as an unprivileged user ------------------
FROM python:${PYTHON_VERSION}-slim
ENV PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1 \
    PATH=/opt/rizhilu/bin:$PATH \
    DATABASE_URL=sqlite:////data/rizhilu.db \
    MEDIA_DIR=/data/media \
    HEALTH_LISTEN=127.0.0.1 \
    HEALTH_PORT=8080
RUN groupadd --system --gid 10001 rizhilu \
    && useradd --system --uid 10001 --gid rizhilu --home-dir /data --no-create-home \
       --shell /usr/sbin/nologin rizhilu \
    && mkdir /data \
    && chown rizhilu:rizhilu /data
COPY --from=build /opt/rizhilu /opt/rizhilu
# numeric, so a host (or Kubernetes runAsNonRoot) can tell it is not root
USER 10001:10001
WORKDIR /data
VOLUME ["/data"]
# the webhook port (only with WEBHOOK_URL set); /healthz stays on 127.0.0.1:8080 inside
EXPOSE 8443
# no curl in the slim image: the standard library asks; a 503 raises, so the check fails
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8080/healthz', timeout=4)"]
# SIGTERM (docker stop) finishes the update in hand and exits 0
STOPSIGNAL SIGTERM
ENTRYPOINT ["rizhilu"]
CMD ["run"]
