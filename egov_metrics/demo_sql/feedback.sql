-- Citizen feedback (PAKN): a few per 1,000 dossiers of the unit and month, 15 working days to handle.
INSERT INTO feedback (id, unit_id, received_at, due_at, handled_at, satisfied, topic, source)
WITH monthly AS (
    SELECT unit_id, CAST(date_trunc('month', received_at) AS DATE) AS month, count(*) AS dossiers
    FROM dossier
    GROUP BY ALL
),
counted AS (
    SELECT m.*, rkey(m.unit_id, m.month, 0) AS mk,
        CAST(floor(m.dossiers * 0.004 * (0.4 + 1.2 * ur(rkey(m.unit_id, m.month, 0), 1))
                   + ur(rkey(m.unit_id, m.month, 0), 2)) AS INTEGER) AS n
    FROM monthly AS m
),
rows AS (
    SELECT c.unit_id, c.month, unnest(range(c.n)) AS k FROM counted AS c WHERE c.n > 0
),
placed AS (
    SELECT r.*, rkey(r.unit_id, r.month, r.k) AS rk,
        r.month + CAST(floor(ur(rkey(r.unit_id, r.month, r.k), 1)
                             * date_diff('day', r.month, r.month + INTERVAL 1 MONTH)) AS INTEGER) AS day
    FROM rows AS r
),
handled AS (
    SELECT p.*, d.wd_index, d.x,
        p.day + to_seconds(CAST(25200 + 50400 * ur(p.rk, 2) AS BIGINT)) AS received_at,
        ur(p.rk, 3) < least(0.5, logistic(d.x, 0.16, 0.05, 2.5, 1.2) * coalesce(up.late_factor, 1.0)) AS late
    FROM placed AS p
    JOIN _day AS d ON d.day = p.day
    LEFT JOIN _unit_profile AS up ON up.unit_id = p.unit_id
),
dated AS (
    SELECT h.*,
        due.day + INTERVAL 17 HOUR AS due_at,
        fin.day + to_seconds(CAST(28800 + 32400 * ur(h.rk, 5) AS BIGINT)) AS done_at
    FROM handled AS h
    LEFT JOIN _wd AS due ON due.wd_index = h.wd_index + 15
    LEFT JOIN _wd AS fin ON fin.wd_index = h.wd_index + CASE
        WHEN h.late THEN 16 + CAST(floor(25 * pow(ur(h.rk, 4), 2)) AS INTEGER)
        ELSE 1 + CAST(floor(14.99 * ur(h.rk, 4)) AS INTEGER) END
)
SELECT
    printf('PAKN-%s-%s-%03d', d.unit_id, strftime(d.month, '%y%m'), d.k) AS id,
    d.unit_id,
    d.received_at,
    d.due_at,
    CASE WHEN d.done_at < getvariable('demo_end_ts') THEN d.done_at END AS handled_at,
    CASE WHEN d.done_at >= getvariable('demo_end_ts') OR d.done_at IS NULL OR ur(d.rk, 6) < 0.08 THEN NULL
         ELSE ur(d.rk, 7) < CASE WHEN d.late THEN 0.55 ELSE 0.91 END END AS satisfied,
    ['thủ tục hành chính', 'đất đai', 'môi trường', 'hạ tầng giao thông', 'trật tự đô thị', 'y tế',
     'giáo dục', 'chính sách xã hội', 'khác'][1 + CAST(mix(d.rk, 8) % 9 AS INTEGER)] AS topic,
    'demo' AS source
FROM dated AS d
ORDER BY d.unit_id, d.received_at;
