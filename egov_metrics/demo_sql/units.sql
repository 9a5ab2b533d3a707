-- Dossier "slots" and their routes to receiving units over time.
-- A slot is a unit that existed when the data starts (department, district or commune). Its pool of
-- procedures stays the same (a department's fields, the district or commune catalogue); the unit that
-- receives its dossiers follows the org-unit history: successors after a merger, and for a district that
-- ended without successor, the current successors of its communes (one picked per dossier).
-- Input: _src_profile (demo_data/unit_profiles.csv), org_unit, org_unit_current.

CREATE TEMP TABLE _slot AS
WITH base AS (
    SELECT u.id, u.code, u.level, u.parent_id, u.name_vi, row_number() OVER (ORDER BY u.id) AS slot_no
    FROM org_unit AS u
    WHERE u.level <> 'province'
      AND u.valid_from <= getvariable('demo_start')
      AND (u.valid_to IS NULL OR u.valid_to > getvariable('demo_start'))
)
SELECT
    b.id AS slot_id, b.code, b.level, b.slot_no,
    CASE b.level WHEN 'department' THEN b.id ELSE b.level END AS pool,
    -- DECIMAL so that sums over units are exact (and the build deterministic)
    CAST(coalesce(p.weight, CASE
        WHEN b.level <> 'commune' THEN 1.0
        WHEN b.name_vi LIKE 'Phường %' THEN 1.1 + 0.6 * ur(rkey(b.slot_no, 0, 0), 11)
        WHEN b.name_vi LIKE 'Thị trấn %' THEN 1.2 + 0.4 * ur(rkey(b.slot_no, 0, 0), 11)
        ELSE 0.45 + 0.55 * ur(rkey(b.slot_no, 0, 0), 11) END) AS DECIMAL(12, 6)) AS weight,
    coalesce(p.late_factor, sqrt(coalesce(d.late_factor, 1.0)) * (0.8 + 0.4 * ur(rkey(b.slot_no, 0, 0), 12)))
        AS late_factor,
    coalesce(p.digital_factor,
             least(1.15, sqrt(coalesce(d.digital_factor, 1.0)) * (0.92 + 0.16 * ur(rkey(b.slot_no, 0, 0), 13))))
        AS digital_factor
FROM base AS b
LEFT JOIN _src_profile AS p ON p.unit_id = b.id
LEFT JOIN _src_profile AS d ON d.unit_id = b.parent_id;

CREATE TEMP TABLE _route AS
WITH RECURSIVE chain (slot_id, unit_id, step) AS (
    SELECT slot_id, slot_id, 0 FROM _slot
    UNION ALL
    SELECT c.slot_id, u.successor_id, c.step + 1
    FROM chain AS c
    JOIN org_unit AS u ON u.id = c.unit_id
    WHERE u.successor_id IS NOT NULL AND c.step < 16
),
direct AS (
    SELECT c.slot_id, c.unit_id, u.valid_from AS route_from, u.valid_to AS route_to
    FROM chain AS c
    JOIN org_unit AS u ON u.id = c.unit_id
),
ended AS (  -- the chain ends at a unit that was abolished without successor (a district)
    SELECT d.slot_id, d.unit_id, d.route_to
    FROM direct AS d
    JOIN org_unit AS u ON u.id = d.unit_id
    WHERE u.valid_to IS NOT NULL AND u.successor_id IS NULL
),
spread AS (
    SELECT DISTINCT e.slot_id, cur.current_id AS unit_id, e.route_to AS route_from
    FROM ended AS e
    JOIN org_unit AS child ON child.parent_id = e.unit_id
    JOIN org_unit_current AS cur ON cur.unit_id = child.id
)
SELECT slot_id, unit_id, route_from, route_to, 0 AS route_no, 1 AS n_routes FROM direct
UNION ALL
SELECT slot_id, unit_id, route_from, CAST(NULL AS DATE) AS route_to,
    row_number() OVER (PARTITION BY slot_id ORDER BY unit_id) - 1 AS route_no,
    count(*) OVER (PARTITION BY slot_id) AS n_routes
FROM spread;

-- What each unit handles: every procedure of the pools routed to it.
INSERT INTO unit_procedure (unit_id, procedure_code)
SELECT DISTINCT r.unit_id, p.code
FROM _route AS r
JOIN _slot AS s ON s.slot_id = r.slot_id
JOIN _proc AS p ON p.pool = s.pool
ORDER BY 1, 2;

-- Profile of every receiving unit (old and new): weight summed over the slots routed to it (shared
-- between routes), the worst late factor and the lowest digital factor of those slots.
CREATE TEMP TABLE _unit_profile AS
SELECT r.unit_id, u.level,
    sum(CAST(s.weight / r.n_routes AS DECIMAL(18, 6))) AS weight,
    max(s.late_factor) AS late_factor,
    min(s.digital_factor) AS digital_factor
FROM _route AS r
JOIN _slot AS s ON s.slot_id = r.slot_id
JOIN org_unit AS u ON u.id = r.unit_id
GROUP BY r.unit_id, u.level;
