# supportbot: one image for Slack, Discord and the terminal channel.
FROM python:3.12-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    DATABASE_URL=sqlite+aiosqlite:////data/supportbot.db

WORKDIR /app
COPY pyproject.toml README.md ./
COPY bot ./bot
COPY adapters ./adapters
COPY triage ./triage
COPY prompts ./prompts
RUN pip install . && useradd --create-home --uid 10001 supportbot \
    && mkdir -p /data && chown supportbot /data

USER supportbot
VOLUME ["/data"]
EXPOSE 3000

# The database is what the bot cannot live without; `supportbot doctor` (no --only)
# also checks DeepSeek and the platform tokens, for a person to read.
HEALTHCHECK --interval=60s --timeout=20s --start-period=30s --retries=3 \
    CMD ["supportbot", "doctor", "--only", "database"]

ENTRYPOINT ["supportbot"]
CMD ["run"]
