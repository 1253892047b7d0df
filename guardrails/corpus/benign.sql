-- Benign corpus: analytic questions an honest LLM would write. Every one must be allowed, and
-- its rewrite must return exactly what the original returns on a database of one organization.

-- class: filters
-- title: all records
SELECT * FROM pfa_merged

-- class: filters
-- title: rentals in one category
SELECT id, class, monthly_rate FROM pfa_merged WHERE category = 'Cranes' AND source = 'Rental'

-- class: filters
-- title: own organization filter
SELECT id FROM pfa_merged WHERE organization_id = 'ORG_A' AND category = 'Concrete'

-- class: filters
-- title: own organization in list
SELECT count(*) FROM pfa_merged WHERE organization_id IN ('ORG_A')

-- class: filters
-- title: schema qualified view
SELECT count(*) FROM nlq.pfa_merged WHERE source = 'Purchase'

-- class: filters
-- title: upper case view name
SELECT count(*) FROM PFA_MERGED

-- class: filters
-- title: quoted lower case view name
SELECT count(*) FROM "pfa_merged"

-- class: filters
-- title: alias on the view
SELECT p.id, p.area FROM pfa_merged AS p WHERE p.area = 'Silo 4'

-- class: filters
-- title: view aliased as itself
SELECT pfa_merged.id FROM pfa_merged pfa_merged WHERE pfa_merged.dor = 'BEO'

-- class: filters
-- title: numeric comparison
SELECT id, monthly_rate FROM pfa_merged WHERE monthly_rate > 5000

-- class: filters
-- title: money between
SELECT id FROM pfa_merged WHERE purchase_price BETWEEN 10000 AND 250000

-- class: filters
-- title: not between
SELECT count(*) FROM pfa_merged WHERE NOT monthly_rate BETWEEN 1000 AND 2000

-- class: filters
-- title: in list
SELECT id, category FROM pfa_merged WHERE category IN ('Cranes', 'Generators', 'Welding')

-- class: filters
-- title: not in list
SELECT count(*) FROM pfa_merged WHERE area NOT IN ('Silo 1', 'Silo 2')

-- class: filters
-- title: ilike search
SELECT id, class FROM pfa_merged WHERE class ILIKE '%crane%'

-- class: filters
-- title: like prefix with percent
SELECT id FROM pfa_merged WHERE manufacturer LIKE 'Cat%'

-- class: filters
-- title: not ilike
SELECT count(*) FROM pfa_merged WHERE model NOT ILIKE '%x%'

-- class: filters
-- title: booleans
SELECT id FROM pfa_merged WHERE is_actualized AND NOT is_discontinued

-- class: filters
-- title: is true
SELECT count(*) FROM pfa_merged WHERE is_funds_transferable IS TRUE

-- class: filters
-- title: null checks
SELECT id FROM pfa_merged WHERE actual_end IS NULL AND actual_start IS NOT NULL

-- class: filters
-- title: has draft
SELECT count(*) FROM pfa_merged WHERE has_draft

-- class: filters
-- title: or of two columns
SELECT id FROM pfa_merged WHERE category = 'Cranes' OR area = 'Jetty'

-- class: filters
-- title: nested boolean logic
SELECT id FROM pfa_merged WHERE (source = 'Rental' AND monthly_rate > 20000) OR (source = 'Purchase' AND purchase_price > 1000000)

-- class: filters
-- title: is distinct from
SELECT count(*) FROM pfa_merged WHERE dor IS DISTINCT FROM 'PROJECT'

-- class: filters
-- title: equipment tag present
SELECT id, equipment_tag FROM pfa_merged WHERE equipment_tag IS NOT NULL ORDER BY id LIMIT 20

-- class: dates
-- title: forecast this month range
SELECT id, forecast_start FROM pfa_merged WHERE forecast_start >= DATE '2026-03-01' AND forecast_start < DATE '2026-04-01'

-- class: dates
-- title: forecast end before date
SELECT count(*) FROM pfa_merged WHERE forecast_end < '2026-01-01'

-- class: dates
-- title: date arithmetic duration
SELECT id, forecast_end - forecast_start AS days FROM pfa_merged WHERE forecast_end - forecast_start > 365

-- class: dates
-- title: interval shift
SELECT id, forecast_end + INTERVAL '14 days' AS extended FROM pfa_merged WHERE category = 'Concrete'

-- class: dates
-- title: extract year
SELECT EXTRACT(YEAR FROM forecast_start) AS yr, count(*) FROM pfa_merged GROUP BY 1

-- class: dates
-- title: date_trunc month
SELECT date_trunc('month', forecast_start) AS month, count(*) FROM pfa_merged GROUP BY 1

-- class: dates
-- title: date_part
SELECT date_part('month', forecast_end) AS m, count(*) FROM pfa_merged GROUP BY 1

-- class: dates
-- title: slip versus plan
SELECT id, forecast_end - plan_end AS slip_days FROM pfa_merged WHERE forecast_end > plan_end

-- class: dates
-- title: to_char month label
SELECT to_char(forecast_start, 'YYYY-MM') AS month, sum(forecast_cost) FROM pfa_merged GROUP BY 1

-- class: dates
-- title: cast to date
SELECT count(*) FROM pfa_merged WHERE forecast_start = CAST('2026-02-15' AS DATE)

-- class: dates
-- title: date literal cast syntax
SELECT count(*) FROM pfa_merged WHERE forecast_start > '2026-06-01'::date

-- class: dates
-- title: between dates
SELECT id FROM pfa_merged WHERE actual_start BETWEEN '2025-01-01' AND '2025-06-30'

-- class: dates
-- title: make_date
SELECT count(*) FROM pfa_merged WHERE plan_start < make_date(2026, 1, 1)

-- class: aggregates
-- title: count by category
SELECT category, count(*) AS n FROM pfa_merged GROUP BY category

-- class: aggregates
-- title: sum and average by source
SELECT source, sum(forecast_cost) AS total, avg(forecast_cost) AS average FROM pfa_merged GROUP BY source

-- class: aggregates
-- title: having
SELECT area, count(*) FROM pfa_merged GROUP BY area HAVING count(*) > 5

-- class: aggregates
-- title: min max
SELECT category, min(monthly_rate), max(monthly_rate) FROM pfa_merged WHERE source = 'Rental' GROUP BY category

-- class: aggregates
-- title: count distinct
SELECT count(DISTINCT class) FROM pfa_merged

-- class: aggregates
-- title: filter clause
SELECT category, count(*) FILTER (WHERE is_actualized) AS on_site FROM pfa_merged GROUP BY category

-- class: aggregates
-- title: variance total
SELECT sum(cost_variance) AS variance FROM pfa_merged

-- class: aggregates
-- title: rounded averages
SELECT category, round(avg(monthly_rate), 2) FROM pfa_merged GROUP BY category

-- class: aggregates
-- title: percentile
SELECT percentile_cont(0.5) WITHIN GROUP (ORDER BY monthly_rate) AS median_rate FROM pfa_merged

-- class: aggregates
-- title: string_agg of classes
SELECT category, string_agg(DISTINCT class, ', ' ORDER BY class) FROM pfa_merged GROUP BY category

-- class: aggregates
-- title: group by two columns
SELECT category, source, count(*) FROM pfa_merged GROUP BY category, source

-- class: aggregates
-- title: group by organization
SELECT organization_id, count(*) FROM pfa_merged GROUP BY organization_id

-- class: aggregates
-- title: coalesce sums
SELECT coalesce(sum(actual_cost), 0) FROM pfa_merged WHERE category = 'Vehicles'

-- class: aggregates
-- title: bool_or
SELECT area, bool_or(is_discontinued) FROM pfa_merged GROUP BY area

-- class: aggregates
-- title: stddev
SELECT category, stddev(monthly_rate) FROM pfa_merged GROUP BY category

-- class: windows
-- title: rank within category
SELECT id, category, forecast_cost, rank() OVER (PARTITION BY category ORDER BY forecast_cost DESC, id) AS r FROM pfa_merged

-- class: windows
-- title: share of total
SELECT id, forecast_cost / NULLIF(sum(forecast_cost) OVER (), 0) AS share FROM pfa_merged WHERE category = 'Cranes'

-- class: windows
-- title: running total
SELECT id, sum(forecast_cost) OVER (ORDER BY id ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) FROM pfa_merged

-- class: windows
-- title: lag
SELECT id, forecast_start, lag(forecast_start) OVER (ORDER BY forecast_start, id) AS previous FROM pfa_merged

-- class: windows
-- title: row_number top per category
SELECT * FROM (SELECT id, category, monthly_rate, row_number() OVER (PARTITION BY category ORDER BY monthly_rate DESC, id) AS rn FROM pfa_merged WHERE source = 'Rental') t WHERE rn <= 3

-- class: windows
-- title: dense_rank and ntile
SELECT id, dense_rank() OVER (ORDER BY area), ntile(4) OVER (ORDER BY id) FROM pfa_merged

-- class: ctes
-- title: CTE with aggregate
WITH by_cat AS (SELECT category, sum(forecast_cost) AS total FROM pfa_merged GROUP BY category) SELECT * FROM by_cat WHERE total > 0

-- class: ctes
-- title: two CTEs joined
WITH r AS (SELECT category, count(*) AS rentals FROM pfa_merged WHERE source = 'Rental' GROUP BY category), p AS (SELECT category, count(*) AS purchases FROM pfa_merged WHERE source = 'Purchase' GROUP BY category) SELECT r.category, r.rentals, p.purchases FROM r FULL OUTER JOIN p ON p.category = r.category

-- class: ctes
-- title: CTE referencing CTE
WITH a AS (SELECT * FROM pfa_merged WHERE is_actualized), b AS (SELECT category, count(*) AS n FROM a GROUP BY category) SELECT * FROM b

-- class: ctes
-- title: quoted upper case CTE name
WITH "PFA_MERGED" AS (SELECT id FROM pfa_merged WHERE area = 'Camp') SELECT count(*) FROM "PFA_MERGED"

-- class: subqueries
-- title: in subquery
SELECT id FROM pfa_merged WHERE class IN (SELECT class FROM pfa_merged WHERE monthly_rate > 50000)

-- class: subqueries
-- title: exists correlated
SELECT a.id FROM pfa_merged a WHERE EXISTS (SELECT 1 FROM pfa_merged b WHERE b.class = a.class AND b.id <> a.id AND b.is_discontinued)

-- class: subqueries
-- title: scalar subquery in select list
SELECT id, monthly_rate - (SELECT avg(monthly_rate) FROM pfa_merged) AS above_average FROM pfa_merged WHERE source = 'Rental'

-- class: subqueries
-- title: derived table
SELECT t.category, t.n FROM (SELECT category, count(*) AS n FROM pfa_merged GROUP BY category) AS t WHERE t.n > 1

-- class: subqueries
-- title: self join on class
SELECT a.id, b.id FROM pfa_merged a JOIN pfa_merged b ON a.class = b.class AND a.id < b.id WHERE a.category = 'Cranes' AND a.area = 'Silo 4'

-- class: subqueries
-- title: lateral top one
SELECT c.category, top.id FROM (SELECT DISTINCT category FROM pfa_merged) c, LATERAL (SELECT id FROM pfa_merged p WHERE p.category = c.category ORDER BY forecast_cost DESC NULLS LAST, id LIMIT 1) top

-- class: subqueries
-- title: join using organization columns
SELECT count(*) FROM pfa_merged a JOIN pfa_merged b ON a.organization_id = b.organization_id AND a.id = b.id

-- class: set_operations
-- title: union
SELECT id FROM pfa_merged WHERE category = 'Cranes' UNION SELECT id FROM pfa_merged WHERE area = 'Jetty'

-- class: set_operations
-- title: union all with order
SELECT id, 'rental' AS kind FROM pfa_merged WHERE source = 'Rental' UNION ALL SELECT id, 'purchase' FROM pfa_merged WHERE source = 'Purchase' ORDER BY 1, 2

-- class: set_operations
-- title: intersect
SELECT class FROM pfa_merged WHERE area = 'Silo 1' INTERSECT SELECT class FROM pfa_merged WHERE area = 'Silo 2'

-- class: set_operations
-- title: except
SELECT category FROM pfa_merged EXCEPT SELECT category FROM pfa_merged WHERE source = 'Purchase'

-- class: expressions
-- title: case buckets
SELECT CASE WHEN monthly_rate >= 20000 THEN 'high' WHEN monthly_rate >= 5000 THEN 'mid' ELSE 'low' END AS band, count(*) FROM pfa_merged WHERE source = 'Rental' GROUP BY 1

-- class: expressions
-- title: simple case
SELECT CASE source WHEN 'Rental' THEN 'R' ELSE 'P' END AS s, count(*) FROM pfa_merged GROUP BY 1

-- class: expressions
-- title: coalesce and nullif
SELECT id, coalesce(equipment_tag, '(none)'), nullif(dor, 'PROJECT') FROM pfa_merged

-- class: expressions
-- title: jsonb text accessor
SELECT id, data->>'class' AS klass FROM pfa_merged WHERE data->>'category' = 'Welding'

-- class: expressions
-- title: jsonb nested accessor
SELECT count(*) FROM pfa_merged WHERE data->'isActualized' = 'true'

-- class: expressions
-- title: string functions
SELECT upper(area), lower(class), length(model), substring(id FROM 5 FOR 3), concat(manufacturer, ' ', model), initcap(area) FROM pfa_merged

-- class: expressions
-- title: string concatenation operator
SELECT manufacturer || ' ' || model AS name FROM pfa_merged WHERE category = 'Cranes'

-- class: expressions
-- title: trim replace split
SELECT trim(area), replace(area, 'Silo', 'S'), split_part(id, '-', 2) FROM pfa_merged

-- class: expressions
-- title: math functions
SELECT abs(cost_variance), ceil(monthly_rate / 7), floor(forecast_cost), greatest(monthly_rate, 1000), least(purchase_price, 5000) FROM pfa_merged

-- class: expressions
-- title: numeric casts
SELECT id, CAST(monthly_rate AS INTEGER), forecast_cost::numeric(12, 2), monthly_rate::text FROM pfa_merged

-- class: expressions
-- title: distinct on
SELECT DISTINCT ON (category) category, id, forecast_cost FROM pfa_merged ORDER BY category, forecast_cost DESC NULLS LAST, id

-- class: expressions
-- title: comments are fine
-- how many cranes are rented?
SELECT count(*) /* rentals only */ FROM pfa_merged WHERE category = 'Cranes' AND source = 'Rental'

-- class: expressions
-- title: trailing semicolon
SELECT count(*) FROM pfa_merged;

-- class: expressions
-- title: parenthesised query
(SELECT id FROM pfa_merged WHERE area = 'Camp')

-- class: limits
-- title: top ten by cost
SELECT id, forecast_cost FROM pfa_merged ORDER BY forecast_cost DESC NULLS LAST, id LIMIT 10

-- class: limits
-- title: order with nulls last and offset
SELECT id FROM pfa_merged ORDER BY forecast_end DESC NULLS LAST, id LIMIT 5 OFFSET 5

-- class: limits
-- title: fetch first
SELECT id FROM pfa_merged ORDER BY id FETCH FIRST 7 ROWS ONLY

-- class: expressions
-- title: more math functions
SELECT id, log(monthly_rate + 1), ln(monthly_rate + 1), round(monthly_rate / 3, 2), trunc(monthly_rate / 7), power(2, 3), sqrt(abs(cost_variance)), mod(CAST(monthly_rate AS INTEGER), 7), sign(cost_variance), exp(1), monthly_rate % 3 FROM pfa_merged WHERE source = 'Rental'

-- class: expressions
-- title: more string functions
SELECT id, strpos(class, 'Crane'), left(class, 3), right(model, 2), btrim(area), position('o' IN area), reverse(id), char_length(class), split_part(class, ' ', 1) FROM pfa_merged

-- class: dates
-- title: age and justify
SELECT id, age(forecast_end, forecast_start), justify_days((forecast_end - forecast_start) * INTERVAL '1 day') FROM pfa_merged WHERE forecast_end IS NOT NULL

-- class: dates
-- title: interval arithmetic with current date kept deterministic
SELECT count(*) FROM pfa_merged WHERE forecast_end > CURRENT_DATE - INTERVAL '10 years'

-- class: names
-- title: a CTE reads the CTE defined before it
WITH rentals AS (SELECT id, category, monthly_rate FROM pfa_merged WHERE source = 'Rental'),
     dear AS (SELECT r.id, r.category FROM rentals r WHERE r.monthly_rate > 1000)
SELECT category, count(*) AS n FROM dear GROUP BY category ORDER BY n DESC, category

-- class: names
-- title: a nested WITH inside a derived table
SELECT s.category, s.n FROM (WITH c AS (SELECT category FROM pfa_merged) SELECT category, count(*) AS n FROM c GROUP BY category) s ORDER BY s.category

-- class: names
-- title: a CTE used in both UNION branches
WITH c AS (SELECT id, source FROM pfa_merged) SELECT id FROM c WHERE source = 'Rental' UNION ALL SELECT id FROM c WHERE source = 'Purchase'

-- class: names
-- title: derived table with a column list
SELECT t.cat, t.total FROM (SELECT category, sum(forecast_cost) FROM pfa_merged GROUP BY category) AS t(cat, total) ORDER BY t.cat

-- class: names
-- title: a CTE with a column list qualified by its name
WITH per_area(area_name, records) AS (SELECT area, count(*) FROM pfa_merged GROUP BY area) SELECT per_area.area_name, per_area.records FROM per_area ORDER BY 1

-- class: names
-- title: unaliased aggregate referred to by its output name
WITH c AS (SELECT category, count(*) FROM pfa_merged GROUP BY category) SELECT c.category, c.count FROM c ORDER BY c.count DESC, c.category

-- class: names
-- title: lateral subquery reading the outer row
SELECT p.id, l.days FROM pfa_merged p CROSS JOIN LATERAL (SELECT p.forecast_end - p.forecast_start AS days) l ORDER BY p.id

-- class: names
-- title: correlated subquery with the same alias inside and out
SELECT p.id FROM pfa_merged p WHERE p.monthly_rate > (SELECT avg(p.monthly_rate) FROM pfa_merged p WHERE p.source = 'Rental') ORDER BY p.id

-- class: names
-- title: qualified star of a CTE and of the view
WITH c AS (SELECT id, area FROM pfa_merged) SELECT c.*, p.category FROM c JOIN pfa_merged p ON p.id = c.id ORDER BY c.id

-- class: names
-- title: order by an output alias
SELECT category, sum(plan_cost) AS planned FROM pfa_merged GROUP BY category ORDER BY planned DESC, category

-- class: names
-- title: self join through two aliases of the view
SELECT a.id, b.id AS other FROM pfa_merged a JOIN pfa_merged b ON a.equipment_tag = b.equipment_tag AND a.id < b.id ORDER BY a.id, b.id

-- class: names
-- title: the table name as qualifier
SELECT pfa_merged.id, pfa_merged.area FROM pfa_merged ORDER BY pfa_merged.id

-- class: names
-- title: one replace and concatenations within bounds
SELECT replace(class, ' ', '_') || '-' || area AS label, concat(category, ': ', class) FROM pfa_merged ORDER BY 1, 2
