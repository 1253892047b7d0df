"""PostgreSQL and PEMS: migrations, roles, the mirror, drafts, audit, sync and the PEMS simulator."""
