-- The dossiers: one row per (slot, day, k) of _cell, every attribute drawn from a hash of that key.
-- Written unsorted to a staging table (demo_stage, a scratch database file); demo.py then moves it into
-- `dossier` in chunks of whole units, each sorted by (unit_id, received_at), so that the table is stored in
-- that order (zone maps make one-unit queries fast) with a bounded sort.
-- Conventions (also written to meta): due_at = the received day + statutory working days at 17:00 (the next
-- working day for a same-day procedure received after hours or on a day off); supplement_days = working days
-- the clock was paused for the applicant, not included in due_at; finished_at includes them.

CREATE TABLE demo_stage.dossier AS
WITH rows AS (
    SELECT c.slot_id, c.slot_no, c.day, c.day_no, unnest(range(c.n)) AS k
    FROM _cell AS c
),
keyed AS (
    SELECT r.*, s.code AS slot_code, s.pool, s.late_factor AS unit_late, s.digital_factor AS df,
        rkey(r.slot_no, r.day_no, r.k) AS rk
    FROM rows AS r
    JOIN _slot AS s ON s.slot_id = r.slot_id
),
placed AS (  -- receiving unit (after the mergers: the successor) and procedure
    SELECT kd.*, d.*EXCLUDE (day, day_no), rt.unit_id,
        p.code AS procedure_code, p.online, p.full_since, p.statutory_days, p.has_fee, p.requires_paper_result,
        p.connected_population_db, p.applicant_type AS procedure_applicant, p.late_factor AS field_late,
        p.supplement_factor
    FROM keyed AS kd
    JOIN _day AS d ON d.day = kd.day
    JOIN _route AS rt
      ON rt.slot_id = kd.slot_id
     AND kd.day >= rt.route_from AND (rt.route_to IS NULL OR kd.day < rt.route_to)
     AND rt.route_no = mix(kd.rk, 1) % rt.n_routes
    JOIN _bucket AS b
      ON b.pool = kd.pool AND b.online_only = NOT d.is_working_day AND b.bucket = mix(kd.rk, 2) % 4096
    JOIN _proc AS p ON p.code = b.code
),
channelled AS (
    SELECT pl.*,
        CASE WHEN NOT pl.is_working_day THEN 'online'
             WHEN ur(pl.rk, 3) < least(0.97, pl.df * CASE
                    WHEN pl.online = 'full' AND pl.day >= pl.full_since THEN pl.p_online_full
                    WHEN pl.online <> 'none' THEN pl.p_online_partial
                    ELSE 0.0 END) THEN 'online'
             WHEN ur(pl.rk, 4) < 0.03 THEN 'post'
             ELSE 'in_person' END AS channel,
        CASE WHEN ur(pl.rk, 6) < 0.012 * pl.supplement_factor THEN 2
             WHEN ur(pl.rk, 6) < 0.082 * pl.supplement_factor THEN 1
             ELSE 0 END AS supplement_count,
        ur(pl.rk, 8) < least(0.6, pl.p_late * pl.field_late * pl.unit_late) AS late
    FROM placed AS pl
),
timed AS (
    SELECT ch.*,
        ch.day + to_seconds(CAST(CASE ch.channel
            WHEN 'online' THEN 21600 + 59400 * ur(ch.rk, 5)      -- 06:00-22:30
            ELSE 27000 + 34200 * ur(ch.rk, 5) END AS BIGINT)) AS received_at,  -- 07:30-17:00
        ch.supplement_count * (2 + CAST(floor(9 * ur(ch.rk, 7)) AS INTEGER)) AS supplement_days
    FROM channelled AS ch
),
counted AS (  -- working days: to the appointment, and used (work + supplement pause)
    SELECT t.*,
        t.statutory_days
          + CASE WHEN t.statutory_days = 0 AND (NOT t.is_working_day OR hour(t.received_at) >= 17) THEN 1 ELSE 0 END
          AS due_n
    FROM timed AS t
),
worked AS (
    SELECT c.*,
        CASE WHEN c.late
             THEN c.due_n + 1 + CAST(floor(12 * pow(ur(c.rk, 9), 2)) AS INTEGER)
                  + CASE WHEN ur(c.rk, 10) < 0.06 THEN 15 + CAST(floor(45 * ur(c.rk, 11)) AS INTEGER) ELSE 0 END
             ELSE greatest(CASE WHEN c.is_working_day THEN 0 ELSE 1 END,
                           CAST(floor(c.due_n * (0.3 + 0.7 * ur(c.rk, 9))) AS INTEGER))
        END AS work_n
    FROM counted AS c
),
dated AS (
    SELECT w.*,
        due.day + INTERVAL 17 HOUR AS due_at,
        greatest(w.received_at + INTERVAL 15 MINUTE,
                 fin.day + to_seconds(CAST(27000 + 34200 * ur(w.rk, 12) AS BIGINT))) AS done_at
    FROM worked AS w
    LEFT JOIN _wd AS due ON due.wd_index = w.wd_index + w.due_n
    LEFT JOIN _wd AS fin ON fin.wd_index = w.wd_index + w.work_n + w.supplement_days
),
settled AS (
    SELECT dt.*,
        dt.done_at + to_seconds(CAST(259200 * pow(ur(dt.rk, 13), 3) AS BIGINT)) AS handed_at,
        CASE WHEN ur(dt.rk, 14) < 0.004 THEN 'withdrawn'
             WHEN dt.done_at IS NULL OR dt.done_at >= getvariable('demo_end_ts')
                 THEN CASE WHEN dt.supplement_count > 0 AND ur(dt.rk, 15) < 0.5 THEN 'supplementing' ELSE 'processing' END
             WHEN ur(dt.rk, 14) < 0.012 THEN 'rejected'
             WHEN ur(dt.rk, 15) < 0.04
               OR dt.done_at + to_seconds(CAST(259200 * pow(ur(dt.rk, 13), 3) AS BIGINT)) >= getvariable('demo_end_ts')
                 THEN 'finished'
             ELSE 'returned' END AS status
    FROM dated AS dt
)
SELECT
    printf('H43.%s-%s-%04d', s.slot_code, strftime(s.day, '%y%m%d'), s.k) AS id,
    s.procedure_code,
    s.unit_id,
    s.channel,
    CASE s.procedure_applicant WHEN 'both' THEN CASE WHEN ur(s.rk, 16) < 0.25 THEN 'business' ELSE 'citizen' END
         ELSE s.procedure_applicant END AS applicant_type,
    s.received_at,
    s.due_at,
    CASE WHEN s.status IN ('finished', 'returned', 'rejected') THEN s.done_at END AS finished_at,
    CASE WHEN s.status = 'returned' THEN s.handed_at END AS returned_at,
    s.status,
    s.supplement_count,
    s.supplement_days,
    s.status IN ('finished', 'returned')
        AND ur(s.rk, 17) < s.p_e_result * s.df * CASE WHEN s.requires_paper_result THEN 0.5 ELSE 1.0 END AS e_result,
    ur(s.rk, 18) < s.p_digitized * s.df AS digitized,
    ur(s.rk, 19) < s.p_reuse * s.df * CASE WHEN s.connected_population_db THEN 1.2 ELSE 0.9 END AS reused_data,
    ur(s.rk, 18) < s.p_digitized * s.df AND ur(s.rk, 20) < s.p_linked AS linked_to_citizen_store,
    s.connected_population_db
        AND ur(s.rk, 21) < s.p_population * CASE WHEN s.channel = 'online' THEN 1.0 ELSE 0.6 END
        AS used_population_data,
    ur(s.rk, 22) < s.p_synced AS synced_to_national,
    CASE WHEN ur(s.rk, 22) < s.p_synced THEN s.received_at + to_seconds(CAST(
        CASE WHEN ur(s.rk, 23) < 0.93 THEN 30 + 1800 * ur(s.rk, 24) ELSE 3600 + 428400 * ur(s.rk, 24) END
        AS BIGINT)) END AS synced_at,
    s.has_fee AND ur(s.rk, 25) < 0.9 AS has_financial_obligation,
    s.has_fee AND ur(s.rk, 25) < 0.9
        AND ur(s.rk, 26) < CASE WHEN s.channel = 'online' THEN s.p_paid_online ELSE s.p_paid_desk END AS paid_online,
    ur(s.rk, 27) < 0.0012 + CASE WHEN s.late THEN 0.008 ELSE 0.0 END AS complaint,
    CASE WHEN s.status IN ('finished', 'returned') AND ur(s.rk, 28) < s.p_rated THEN
        CASE WHEN ur(s.rk, 29) < CASE WHEN s.late THEN 0.3 ELSE 0.03 END THEN 'dissatisfied'
             WHEN ur(s.rk, 30) < 0.62 THEN 'very_satisfied'
             ELSE 'satisfied' END
    END AS rating,
    'demo' AS source
FROM settled AS s;
