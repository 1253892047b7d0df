"""SQL policy for LLM-written statements: validation and organization-scoping rewrite (sqlglot only)."""
