# syntax=docker/dockerfile:1
#
# salonconsent: one image for the web app (gunicorn), the Celery worker and Celery beat.
# Runtime configuration comes entirely from the environment (see salonconsent/settings.py
# and docker-compose.yml); nothing secret is baked into the image.

FROM python:3.12-slim

LABEL org.opencontainers.image.title="salonconsent" \
      org.opencontainers.image.description="GDPR consent register, send policy and messaging for hair and beauty salons" \
      org.opencontainers.image.licenses="AGPL-3.0-or-later"

# STATIC_ROOT lives outside var/ so a volume mounted on var/ cannot hide the collected files.
# gunicorn reads WEB_CONCURRENCY as its default worker count; override it at run time.
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PIP_NO_CACHE_DIR=1 \
    STATIC_ROOT=/app/staticfiles \
    MEDIA_ROOT=/app/var/media \
    WEB_CONCURRENCY=3

# gettext provides msgfmt for `manage.py compilemessages`.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

# Unprivileged runtime user with a writable home (gunicorn puts its control socket there).
RUN groupadd --system --gid 10001 app \
    && useradd --system --uid 10001 --gid app --create-home --home-dir /home/app \
       --shell /usr/sbin/nologin app

WORKDIR /app

# Dependencies first, so this layer is rebuilt only when pyproject.toml changes.
# pyproject declares no packages of its own ([tool.setuptools] packages = []), so this
# installs just the dependencies; the source is copied below and run from /app.
COPY pyproject.toml README.md* /tmp/build/
RUN pip install --no-cache-dir /tmp/build \
    && rm -rf /tmp/build

COPY . .

# Build-time steps need settings to load with DEBUG off; the SECRET_KEY here is a throwaway
# set only for these commands and never stored in the image's environment.
RUN mkdir -p /app/var/media \
    && if find . -path ./var -prune -o -type d -name locale -print | grep -q .; then \
           SECRET_KEY=build-only-throwaway-key REGISTER_SIGNING_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= DEBUG=false python manage.py compilemessages; \
       fi \
    && SECRET_KEY=build-only-throwaway-key REGISTER_SIGNING_KEY=AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA= DEBUG=false python manage.py collectstatic --noinput \
    && chown -R app:app /app/var

USER 10001:10001

EXPOSE 8000

CMD ["gunicorn", "salonconsent.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--access-logfile", "-", \
     "--error-logfile", "-", \
     "--worker-tmp-dir", "/dev/shm", \
     "--max-requests", "1000", \
     "--max-requests-jitter", "100"]
