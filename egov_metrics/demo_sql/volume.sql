-- Days of the data range with their volume factor and the rates that drift over time, then the number of
-- dossiers of every (slot, day): exactly demo_n in total, by largest remainder on integer weights (exact
-- arithmetic, so the allocation does not depend on the order in which threads add numbers).

CREATE TEMP TABLE _day AS
WITH days AS (
    SELECT c.day, c.is_working_day, c.wd_index,
        CAST(date_diff('day', getvariable('demo_start'), c.day) AS INTEGER) AS day_no,
        date_diff('day', DATE '2021-01-01', c.day) / 365.25 AS x
    FROM calendar_day AS c
    WHERE c.day >= getvariable('demo_start') AND c.day < getvariable('demo_end')
),
tet AS (SELECT day FROM calendar_day WHERE reason_vi = 'Tết Nguyên Đán'),
reorganised AS (SELECT DISTINCT valid_from AS day FROM org_unit WHERE valid_from > getvariable('demo_start'))
SELECT d.*,
    -- volume: working days (weekday pattern, slow restart after Tết), a trickle of online dossiers on days
    -- off, season, growth, and a dip in the weeks after a reorganisation
    CASE WHEN NOT d.is_working_day THEN 0.05
         ELSE [1.12, 1.0, 1.0, 1.0, 0.92, 0.7, 0.7][isodow(d.day)]
            * CASE WHEN EXISTS (SELECT 1 FROM tet AS t WHERE d.day > t.day AND d.day <= t.day + 12)
                   THEN 0.8 ELSE 1.0 END
    END
    * [0.97, 0.95, 1.04, 1.0, 1.01, 1.02, 1.03, 1.04, 1.0, 0.99, 1.02, 1.07][month(d.day)]
    * pow(1.09, d.x)
    * CASE WHEN EXISTS (SELECT 1 FROM reorganised AS r WHERE d.day >= r.day AND d.day < r.day + 45)
           THEN 0.88 ELSE 1.0 END AS volume,
    logistic(d.x, 0.18, 0.86, 2.5, 1.2) AS p_online_full,      -- online take-up of a full online service
    logistic(d.x, 0.05, 0.42, 2.5, 1.2) AS p_online_partial,   -- ... of a partial online service
    logistic(d.x, 0.07, 0.025, 2.5, 1.2) AS p_late,            -- base rate of late dossiers
    logistic(d.x, 0.04, 0.90, 2.7, 1.8) AS p_digitized,
    logistic(d.x, 0.02, 0.85, 3.3, 1.8) AS p_e_result,
    logistic(d.x, 0.00, 0.65, 3.4, 1.6) AS p_reuse,
    logistic(d.x, 0.00, 0.80, 3.6, 1.8) * CAST(component_live('L5_CITIZEN_STORE', d.day) AS INTEGER) AS p_linked,
    logistic(d.x, 0.00, 0.90, 2.8, 1.8) * CAST(component_live('L6_POP_DB', d.day) AS INTEGER) AS p_population,
    logistic(d.x, 0.80, 0.995, 1.0, 2.0) AS p_synced,
    logistic(d.x, 0.03, 0.80, 3.0, 1.5) * CAST(component_live('L4_PAYMENT', d.day) AS INTEGER) AS p_paid_online,
    logistic(d.x, 0.00, 0.15, 3.5, 1.5) * CAST(component_live('L4_PAYMENT', d.day) AS INTEGER) AS p_paid_desk,
    logistic(d.x, 0.02, 0.18, 2.5, 1.5) AS p_rated,
    logistic(d.x, 0.00, 0.97, 2.8, 1.8) * CAST(component_live('L1_CITIZEN_ID', d.day) AS INTEGER) AS p_vneid
FROM days AS d;

CREATE TEMP TABLE _wd AS
SELECT wd_index, day FROM calendar_day WHERE is_working_day;

CREATE TEMP TABLE _cell AS
WITH weighted AS (
    SELECT s.slot_id, s.slot_no, d.day, d.day_no,
        CAST(round(1e6 * CAST(s.weight AS DOUBLE) * d.volume
                   * (0.75 + 0.5 * ur(rkey(s.slot_no, d.day_no, -1), 21))) AS BIGINT) AS w,
        CAST(mix(rkey(s.slot_no, d.day_no, -1), 22) >> 32 AS HUGEINT) AS u32  -- uniform in [0, 2^32)
    FROM _slot AS s
    CROSS JOIN _day AS d
    WHERE d.is_working_day OR s.pool IN (SELECT pool FROM _bucket WHERE online_only)
),
total AS (SELECT CAST(sum(w) AS HUGEINT) AS total FROM weighted),
rounded AS (
    -- stochastic rounding of the expected count demo_n * w / total: floor(expected + u), u uniform in
    -- [0, 1), so that small units get their share on average (exact integer arithmetic)
    SELECT wt.*,
        (CAST(getvariable('demo_n') AS HUGEINT) * wt.w * 4294967296 + wt.u32 * t.total)
            // (t.total * 4294967296) AS n0
    FROM weighted AS wt, total AS t
),
ranked AS (
    -- the rounding misses demo_n by a few: the largest cells absorb the difference, one dossier each
    SELECT r.*,
        getvariable('demo_n') - sum(r.n0) OVER () AS missing,
        row_number() OVER (ORDER BY r.w DESC, r.slot_no, r.day_no) AS size_rank
    FROM rounded AS r
)
SELECT slot_id, slot_no, day, day_no,
    CAST(n0 + CASE WHEN size_rank <= abs(missing) THEN sign(missing) ELSE 0 END AS INTEGER) AS n
FROM ranked
WHERE n0 + CASE WHEN size_rank <= abs(missing) THEN sign(missing) ELSE 0 END > 0;
