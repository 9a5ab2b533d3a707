-- egov-metrics views over the canonical tables (schema version 1).
-- Views, not tables, so that they always agree with org_unit. CREATE VIEW is impossible on a read-only
-- database: these statements run when a database is built (orgunits.create_unit_views) and are meant to be
-- folded into schema.sql. They are idempotent (CREATE OR REPLACE).

-- org_unit_current: for every unit ever, the unit that stands for it in today's structure.
-- Walk: a unit still valid (valid_to IS NULL) stands for itself; a unit that ended moves to its successor
-- (org_unit.successor_id, the primary successor also listed in org_unit_crosswalk); a unit that ended
-- without a successor (an abolished district) moves to its parent, which is walked the same way.
-- Old Sở Kế hoạch và Đầu tư -> new Sở Tài chính; old commune -> new commune; district -> province.
CREATE OR REPLACE VIEW org_unit_current AS
WITH RECURSIVE walk (unit_id, at_id, step) AS (
    SELECT id, id, 0 FROM org_unit
    UNION ALL
    SELECT w.unit_id, coalesce(u.successor_id, u.parent_id), w.step + 1
    FROM walk AS w
    JOIN org_unit AS u ON u.id = w.at_id
    WHERE u.valid_to IS NOT NULL
      AND coalesce(u.successor_id, u.parent_id) IS NOT NULL
      AND w.step < 64  -- guard; load_reference_units rejects cycles
)
SELECT unit_id, arg_max(at_id, step) AS current_id, max(step) AS steps
FROM walk
GROUP BY unit_id;

-- org_unit_closure: (unit_id, ancestor_id, ancestor_level, version) for every unit ever, the unit itself
-- included (depth 0), so that "a unit and everything below it" is `WHERE ancestor_id = ?`.
--   version 'historical': the hierarchy as it was while the unit existed (parent_id chain).
--   version 'current':    the unit first mapped to org_unit_current, then up today's hierarchy.
-- Roll-up by level L in version V: JOIN org_unit_closure c ON c.unit_id = dossier.unit_id
--   AND c.version = V AND c.ancestor_level = L (each unit has at most one ancestor per level).
CREATE OR REPLACE VIEW org_unit_closure AS
WITH RECURSIVE up (unit_id, ancestor_id, depth) AS (
    SELECT id, id, 0 FROM org_unit
    UNION ALL
    SELECT up.unit_id, u.parent_id, up.depth + 1
    FROM up
    JOIN org_unit AS u ON u.id = up.ancestor_id
    WHERE u.parent_id IS NOT NULL
      AND up.depth < 64
)
SELECT c.unit_id, up.ancestor_id, a.level AS ancestor_level, 'current' AS version
FROM org_unit_current AS c
JOIN up ON up.unit_id = c.current_id
JOIN org_unit AS a ON a.id = up.ancestor_id
UNION ALL
SELECT up.unit_id, up.ancestor_id, a.level AS ancestor_level, 'historical' AS version
FROM up
JOIN org_unit AS a ON a.id = up.ancestor_id;
