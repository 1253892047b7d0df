FROM python:3.12-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY nlq ./nlq
COPY guardrails ./guardrails
COPY prompts ./prompts
COPY store ./store
RUN pip install --no-cache-dir . && useradd --system --home /app vanguard
USER vanguard

EXPOSE 8000
CMD ["vanguard", "serve", "--host", "0.0.0.0", "--port", "8000"]
