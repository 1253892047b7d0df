# The service image: `vanguard serve` on 0.0.0.0:8000 as an unprivileged user.
# docker-compose.yml sets the database, PEMS, LLM and key settings; see README "Deployment".
FROM python:3.12-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY nlq ./nlq
COPY guardrails ./guardrails
COPY prompts ./prompts
COPY store ./store
RUN pip install --no-cache-dir . \
    && useradd --system --home /app vanguard \
    && mkdir -p /var/lib/vanguard && chown vanguard /var/lib/vanguard
USER vanguard

# The data directory holds nothing a compose deployment needs to keep (its keys come from the
# environment), but `vanguard` must be able to write there.
ENV VANGUARD_HOST=0.0.0.0 \
    VANGUARD_PORT=8000 \
    VANGUARD_DATA_DIR=/var/lib/vanguard \
    PYTHONUNBUFFERED=1
EXPOSE 8000
# python:*-slim has no curl: the check is the package's own, standard library only.
HEALTHCHECK --interval=15s --timeout=10s --start-period=60s --retries=5 CMD ["python", "-m", "nlq.healthcheck"]
CMD ["vanguard", "serve"]
