-- Procedure fields and the procedure catalogue (from demo_data/fields.csv and procedures.csv).
-- Inputs: _src_field, _src_proc (tid = line order). Output: field, procedure, and the hidden attributes
-- the generator needs (_proc) and the weighted procedure buckets of every pool (_bucket).

INSERT INTO field (code, name_vi, name_en)
SELECT code, name_vi, name_en FROM _src_field ORDER BY code;

CREATE TEMP TABLE _proc AS
WITH by_level AS (
    SELECT s.*, unnest(string_split(s.levels, '|')) AS level
    FROM _src_proc AS s
),
variants AS (
    -- variant 0 is the template; 1, 2, 3 = "Cấp lại", "Điều chỉnh", "Gia hạn" of a "Cấp ..." procedure
    SELECT b.*, unnest(range(0, 1 + CASE WHEN starts_with(b.name_vi, 'Cấp ') THEN b.variants ELSE 0 END)) AS variant
    FROM by_level AS b
),
numbered AS (
    SELECT v.*, row_number() OVER (ORDER BY v.tid, v.level, v.variant) AS n
    FROM variants AS v
)
SELECT
    -- national-style codes (1.001234, 2.000815): 7919 is prime, so the numbers are distinct for n < 12000
    printf('%d.%06d', CASE WHEN nb.n % 5 < 3 THEN 1 ELSE 2 END, (nb.n * 7919 + 1234) % 12000) AS code,
    nb.n,
    CASE WHEN nb.variant = 0 THEN nb.name_vi
         ELSE ['Cấp lại', 'Điều chỉnh', 'Gia hạn'][nb.variant] || substr(nb.name_vi, 4) END AS name_vi,
    CASE WHEN nb.variant = 0 THEN nb.name_en
         ELSE ['Reissue', 'Amend', 'Extend'][nb.variant] || substr(nb.name_en, 6) END AS name_en,
    nb.field,
    nb.level,
    CASE nb.level WHEN 'province' THEN f.owner_unit ELSE nb.level END AS pool,
    CAST(round(nb.days * [1.0, 0.6, 0.8, 0.5][nb.variant + 1]) AS INTEGER) AS statutory_days,
    CAST(round(1000 * nb.weight * [1.0, 0.2, 0.15, 0.1][nb.variant + 1]
               * (0.6 + 0.8 * ur(rkey(nb.n, 0, 0), 1))) AS BIGINT) AS weight,
    nb.online,
    CASE WHEN nb.online = 'full'
         THEN DATE '2020-01-01' + CAST(floor(2000 * ur(rkey(nb.n, 0, 0), 2)) AS INTEGER) END AS full_since,
    nb.fee = 1 AS has_fee,
    nb.popdb = 1 AS connected_population_db,
    ur(rkey(nb.n, 0, 0), 3) < CASE WHEN nb.field IN ('dat_dai', 'xay_dung') THEN 0.7 ELSE 0.25 END
        AS requires_paper_result,
    nb.applicant AS applicant_type,
    f.late_factor,
    f.supplement_factor,
    ur(rkey(nb.n, 0, 0), 4) AS u_partial_eligible,
    ur(rkey(nb.n, 0, 0), 5) AS u_complete,
    DATE '2018-01-01' + CAST(floor(3100 * ur(rkey(nb.n, 0, 0), 6)) AS INTEGER) AS legal_effective_on,
    ur(rkey(nb.n, 0, 0), 7) AS u_publish,
    ur(rkey(nb.n, 0, 0), 8) AS u_publish_days,
    ur(rkey(nb.n, 0, 0), 9) AS u_disclose,
    ur(rkey(nb.n, 0, 0), 10) AS u_disclose_days
FROM numbered AS nb
JOIN _src_field AS f ON f.code = nb.field;

INSERT INTO procedure (
    code, name_vi, name_en, field, level, online_level, full_online_since, eligible_full_online, statutory_days,
    has_fee, requires_paper_result, applicant_type, connected_population_db, content_complete, legal_effective_on,
    published_on, disclosed_on, valid_to
)
WITH dated AS (
    SELECT p.*,
        least(p.legal_effective_on, getvariable('demo_end') - 60) AS effective_on,
        -- most procedures are published (công bố) before they take effect, some late
        CASE WHEN p.u_publish < 0.86 THEN -CAST(floor(20 * p.u_publish_days) AS INTEGER)
             ELSE 3 + CAST(floor(57 * p.u_publish_days) AS INTEGER) END AS publish_offset,
        CASE WHEN p.u_disclose < 0.88 THEN CAST(floor(5 * p.u_disclose_days) AS INTEGER)
             ELSE 6 + CAST(floor(40 * p.u_disclose_days) AS INTEGER) END AS disclose_offset
    FROM _proc AS p
)
SELECT
    code, name_vi, name_en, field, level,
    -- today's level: a 'full' procedure is only partial until its upgrade date
    CASE WHEN online = 'full' AND full_since < getvariable('demo_end') THEN 'full'
         WHEN online IN ('full', 'partial') THEN 'partial'
         ELSE 'none' END,
    CASE WHEN online = 'full' AND full_since < getvariable('demo_end') THEN full_since END,
    online = 'full' OR (online = 'partial' AND u_partial_eligible < 0.45),
    statutory_days, has_fee, requires_paper_result, applicant_type, connected_population_db,
    u_complete > 0.06,
    effective_on,
    effective_on + publish_offset,
    effective_on + publish_offset + disclose_offset,
    NULL
FROM dated
ORDER BY code;

-- Weighted buckets: a dossier picks bucket hash % 4096 of its unit's pool. online_only buckets hold only
-- procedures with an online service (for dossiers received on days off, which can only come online).
CREATE TEMP TABLE _bucket AS
WITH candidates AS (
    SELECT pool, false AS online_only, code, weight FROM _proc
    UNION ALL
    SELECT pool, true AS online_only, code, weight FROM _proc WHERE online <> 'none'
),
cumulative AS (
    SELECT pool, online_only, code, weight,
        sum(weight) OVER (PARTITION BY pool, online_only ORDER BY code ROWS UNBOUNDED PRECEDING) AS cum_hi,
        sum(weight) OVER (PARTITION BY pool, online_only) AS total
    FROM candidates
)
SELECT c.pool, c.online_only, b.range AS bucket, c.code
FROM cumulative AS c
JOIN range(4096) AS b
  ON (2 * b.range + 1) * c.total >= 8192 * (c.cum_hi - c.weight)
 AND (2 * b.range + 1) * c.total < 8192 * c.cum_hi;
