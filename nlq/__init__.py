"""PFA Vanguard service: HTTP API, NL query pipeline, CLI and web pages."""
