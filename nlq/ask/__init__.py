"""The NL query service: catalog, prompts, LLM providers, guarded execution, streaming, audit."""
