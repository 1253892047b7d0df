-- Executor corpus: statements the guardrails allow (they are SQL an analyst could write) that the
-- executor must stop or sanitize. Run by tests/test_executor_corpus.py through the guardrails and
-- the reader executor on two organizations of 1,200 records.
-- Blocks: "-- class:", "-- title:", "-- expect: over_budget | db_error", then the SQL.
-- db_error cases run on a record whose area is 'CANARY-7f3a' and monthly rate 68151: neither may
-- appear in what the executor reports.

-- class: row_cap
-- title: three-way self-join behind the service's cap
-- expect: over_budget
SELECT a.id FROM pfa_merged a, pfa_merged b, pfa_merged c WHERE a.monthly_rate + b.monthly_rate + c.monthly_rate = -1

-- class: row_cap
-- title: cartesian join behind a small LIMIT of its own
-- expect: over_budget
SELECT a.id, b.id, c.id FROM pfa_merged a, pfa_merged b, pfa_merged c WHERE a.area || b.area = c.class LIMIT 3

-- class: row_cap
-- title: cartesian join inside a derived table with LIMIT
-- expect: over_budget
SELECT count(*) FROM (SELECT a.id FROM pfa_merged a, pfa_merged b, pfa_merged c LIMIT 10) s

-- class: row_cap
-- title: cartesian join behind FETCH FIRST in an IN subquery
-- expect: over_budget
SELECT id FROM pfa_merged WHERE id IN (SELECT b.id FROM pfa_merged b, pfa_merged c, pfa_merged d WHERE b.monthly_rate > c.monthly_rate + d.monthly_rate FETCH FIRST 3 ROWS ONLY)

-- class: row_cap
-- title: cartesian join in one UNION branch with LIMIT
-- expect: over_budget
(SELECT a.id FROM pfa_merged a, pfa_merged b, pfa_merged c WHERE a.area = c.class LIMIT 1) UNION ALL SELECT id FROM pfa_merged

-- class: row_cap
-- title: cartesian join folded into one row by count
-- expect: over_budget
SELECT count(*) FROM pfa_merged a, pfa_merged b, pfa_merged c WHERE a.id <> c.id

-- class: row_cap
-- title: cartesian join folded into one row by a scalar subquery
-- expect: over_budget
SELECT (SELECT max(a.monthly_rate + b.monthly_rate + c.monthly_rate) FROM pfa_merged a, pfa_merged b, pfa_merged c) AS m

-- class: error_text
-- title: a monthly rate as the month of a date
-- expect: db_error
SELECT make_date(2000, monthly_rate::int, 1) FROM pfa_merged WHERE id = 'PFA-0000005'

-- class: error_text
-- title: a monthly rate as a date text
-- expect: db_error
SELECT (monthly_rate::int)::text::date FROM pfa_merged WHERE id = 'PFA-0000005'

-- class: error_text
-- title: an area as a number
-- expect: db_error
SELECT area::int FROM pfa_merged WHERE id = 'PFA-0000005'

-- class: error_text
-- title: an area as a boolean
-- expect: db_error
SELECT area::boolean FROM pfa_merged WHERE id = 'PFA-0000005'

-- class: error_text
-- title: an area inside a date format
-- expect: db_error
SELECT to_date(area, 'YYYY-MM-DD') FROM pfa_merged WHERE id = 'PFA-0000005'

-- class: error_text
-- title: an area inside a numeric conversion
-- expect: db_error
SELECT area::numeric FROM pfa_merged WHERE id = 'PFA-0000005'
