"""Every primary key and main index of a tenant table leads with `organization_id`, so each
organization's rows sit together in every index today and the schema can be distributed by
organization (Citus: unique keys must contain the distribution column) without redesign.
Exceptions are listed with their reason; `docs/scaling.md` says what they mean for distribution."""

from __future__ import annotations

import psycopg
import pytest

INDEXES = """
SELECT c.relname AS table_name, i.relname AS index_name, x.indisprimary, x.indisunique,
       (SELECT array_agg(coalesce(a.attname, '(expression)') ORDER BY k.ord)
        FROM unnest(x.indkey) WITH ORDINALITY AS k(attnum, ord)
        LEFT JOIN pg_attribute AS a ON a.attrelid = c.oid AND a.attnum = k.attnum) AS columns
FROM pg_index AS x
JOIN pg_class AS c ON c.oid = x.indrelid
JOIN pg_class AS i ON i.oid = x.indexrelid
JOIN pg_namespace AS n ON n.oid = c.relnamespace
WHERE n.nspname = 'vanguard' AND c.relkind IN ('r', 'm', 'p')
ORDER BY 1, 2
"""

# Tables that hold one organization's data (the ones Citus would distribute by organization_id).
TENANT_TABLES = {
    "pfa_mirror", "pfa_draft", "change_sets", "commits", "sync_runs", "sync_state", "writeback_outbox",
    "nlq_audit", "kpi_category_source", "kpi_timeline", "kpi_draft_delta", "conversations",
    "conversation_turns", "golden_examples", "answer_ratings", "draft_marks", "matrix_events", "matrix_draft_delta",
    "draft_moves_compacted",
}
# Tables of the whole deployment (Citus reference tables, or local to the coordinator), and why.
SHARED_TABLES = {
    "organizations": "the tenants themselves: one small row each, a reference table",
    "users": "a person may be a member of several organizations: a reference table",
    "memberships": "joins users to organizations; read on every request by user id: a reference table",
    "app_secrets": "the deployment's keys (the JWT signing key)",
    "login_attempts": "counted per username and per client address, before anyone's organization is known",
    "revoked_tokens": "a token belongs to a user, not to an organization",
    "schema_migrations": "the migration ledger of the database",
    "nlq_audit_seal": "seals of the one audit hash chain across organizations (organization_id only labels an entry)",
}
# Keys and indexes of tenant tables that do not lead with organization_id, and why they may not.
EXCEPTIONS = {
    "pfa_draft_pkey": "identity id: referenced by change sets, commits and the outbox; unique on its own",
    "change_sets_pkey": "identity id, referenced by pfa_draft.change_set_id",
    "commits_pkey": "identity id, referenced by pfa_draft.commit_id and the outbox",
    "sync_runs_pkey": "identity id: a run is read back by id after its organization is checked",
    "writeback_outbox_pkey": "identity id: a worker claims and settles one item by id",
    "nlq_audit_pkey": "identity id: the audit hash chain orders all organizations' entries",
    "conversations_pkey": "uuid, unguessable and globally unique; every read also filters by organization",
    "conversation_turns_pkey": "identity id of a turn; turns are read through their conversation",
    "golden_examples_pkey": "identity id of a verified example; reads filter by organization",
    "answer_ratings_pkey": "(audit_id, user_id): one rating per answer and user; the audit id is global",
    "conversation_turns_conversation_id_position_key": "turns are ordered within their conversation",
    "nlq_audit_chain_position": "the one hash chain across organizations (sealed as a whole)",
    "pfa_draft_by_change_set": "finds a change set's drafts after the change set was found in its organization",
    "pfa_draft_by_commit": "finds a commit's drafts after the commit was found in its organization",
    "writeback_outbox_due": "workers take due items of every organization in order of time",
    "writeback_outbox_in_flight": "workers find stalled deliveries of every organization by age",
    "golden_examples_search": "full-text search (gin); every query also filters by organization",
    "writeback_outbox_draft_id_key": "one outbox item per draft (draft ids are global identities)",
    "writeback_outbox_idempotency_key_key": "the key PEMS sees; unique across the deployment",
}
# Tenant tables without an organization_id column of their own (they reach it through a parent).
WITHOUT_ORGANIZATION_ID = {
    "conversation_turns": "a turn belongs to its conversation (conversation_id); Citus would need the column added",
}


@pytest.fixture
def indexes(db):
    with psycopg.connect(db.admin) as conn:
        return conn.execute(INDEXES).fetchall()


def test_every_table_is_either_a_tenant_table_or_a_listed_shared_one(indexes):
    tables = {table for table, *_ in indexes}
    assert tables == TENANT_TABLES | set(SHARED_TABLES), "classify new tables here and in docs/scaling.md"


def test_tenant_tables_carry_organization_id(db):
    with psycopg.connect(db.admin) as conn:
        found = {name for (name,) in conn.execute(
            "SELECT c.relname FROM pg_attribute AS a JOIN pg_class AS c ON c.oid = a.attrelid "
            "JOIN pg_namespace AS n ON n.oid = c.relnamespace "
            "WHERE n.nspname = 'vanguard' AND c.relkind IN ('r', 'm', 'p') AND a.attname = 'organization_id' "
            "AND NOT a.attisdropped").fetchall()}
    # Shared tables that still name an organization: a membership, and the label of a sealed entry.
    assert found == (TENANT_TABLES - set(WITHOUT_ORGANIZATION_ID)) | {"memberships", "nlq_audit_seal"}


def test_every_key_and_index_of_a_tenant_table_leads_with_organization_id(indexes):
    not_led = {name: (table, columns) for table, name, _, _, columns in indexes
               if table in TENANT_TABLES and columns[0] != "organization_id"}
    unexplained = {name: found for name, found in not_led.items() if name not in EXCEPTIONS}
    assert not unexplained, "lead these with organization_id, or list them with a reason"
    assert set(EXCEPTIONS) <= set(not_led), "an exception that no longer applies: remove it"


def test_every_primary_key_of_a_tenant_table_is_led_by_organization_id_or_listed(indexes):
    primary = {name: columns for table, name, is_primary, _, columns in indexes if table in TENANT_TABLES and is_primary}
    assert set(primary) == {f"{table}_pkey" for table in TENANT_TABLES} - {
        # Materialized views and the drafts' running deltas: keyed by unique indexes led by
        # organization_id (or not at all), never referenced by a foreign key.
        "kpi_category_source_pkey", "kpi_timeline_pkey", "kpi_draft_delta_pkey", "matrix_events_pkey",
        "matrix_draft_delta_pkey"}
    led = sorted(name for name, columns in primary.items() if columns[0] == "organization_id")
    assert led == ["draft_marks_pkey", "draft_moves_compacted_pkey", "pfa_mirror_pkey", "sync_state_pkey"]
