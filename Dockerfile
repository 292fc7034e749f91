# The PrintDesk relay alone (Stripe webhooks into the shop's database, storage maintenance):
# `pip install '.[relay]'` brings the core set only, no Qt, VTK or pyvista.
#   docker build -t printdesk-relay .
#   docker run -p 8080:8080 -e DATABASE_URL=… -e STRIPE_WEBHOOK_SECRET=whsec_… printdesk-relay
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PORT=8080

WORKDIR /src
COPY pyproject.toml README.md ./
COPY core ./core
COPY relay ./relay
COPY cli ./cli
COPY migrations ./migrations
RUN pip install '.[relay]' && rm -rf /src

# No shell login, no home worth keeping: the relay keeps nothing on disk.
RUN useradd --system --uid 10001 --home-dir /home/relay --create-home relay
USER relay
WORKDIR /home/relay
ENV PRINTDESK_DATA_DIR=/home/relay/data \
    PRINTDESK_LOG_DIR=/home/relay/log \
    PRINTDESK_CONFIG=/home/relay/printdesk.toml

EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=20s --retries=3 \
    CMD ["python", "-c", "import os, sys, urllib.request; sys.exit(urllib.request.urlopen(f\"http://127.0.0.1:{os.environ.get('PORT', '8080')}/healthz\", timeout=4).status != 200)"]
# A shell form so the platform's $PORT is read at start; exec keeps signals going to uvicorn.
CMD ["sh", "-c", "exec printdesk relay serve --host 0.0.0.0 --port \"$PORT\""]
