-- Internal e-office share per unit and month, workforce and training per unit and year, and monthly
-- online-service users (from the online dossiers) with the VNeID share.

INSERT INTO e_office (unit_id, month, documents_total, documents_electronic)
WITH months AS (
    SELECT CAST(date_trunc('month', day) AS DATE) AS month, min(x) AS x,
        count(*) FILTER (WHERE is_working_day) AS working_days
    FROM _day
    GROUP BY 1
),
units AS (
    SELECT m.month, m.x, m.working_days, u.id AS unit_id, u.level,
        coalesce(up.weight, 1.0) AS weight, coalesce(up.digital_factor, 1.0) AS df,
        rkey(u.id, m.month, 0) AS rk
    FROM months AS m
    JOIN org_unit AS u
      ON u.level <> 'province' AND u.valid_from <= m.month AND (u.valid_to IS NULL OR m.month < u.valid_to)
    LEFT JOIN _unit_profile AS up ON up.unit_id = u.id
),
sized AS (
    SELECT un.*,
        CAST(round(un.working_days / 21.0 * pow(1.04, un.x) * (0.85 + 0.3 * ur(un.rk, 1)) * CASE un.level
            WHEN 'department' THEN 260 + 90 * sqrt(CAST(un.weight AS DOUBLE))
            WHEN 'district' THEN 420 + 40 * CAST(un.weight AS DOUBLE)
            ELSE 70 + 45 * CAST(un.weight AS DOUBLE) END) AS BIGINT) AS documents_total,
        CASE un.level
            WHEN 'department' THEN logistic(un.x, 0.55, 0.96, 1.5, 1.3)
            WHEN 'district' THEN logistic(un.x, 0.35, 0.88, 2.0, 1.3)
            ELSE logistic(un.x, 0.12, 0.78, 2.8, 1.3) END AS share
    FROM units AS un
)
SELECT unit_id, month, documents_total,
    CAST(round(documents_total * least(0.99, share * df * (0.97 + 0.06 * ur(rk, 2)))) AS BIGINT)
FROM sized
ORDER BY unit_id, month;

INSERT INTO workforce (unit_id, year, staff, staff_trained, training_planned)
WITH years AS (
    SELECT DISTINCT year(day) AS year FROM _day
),
units AS (
    SELECT y.year, u.id AS unit_id, u.level,
        coalesce(up.weight, 1.0) AS weight, coalesce(up.digital_factor, 1.0) AS df,
        rkey(u.id, y.year, 0) AS rk
    FROM years AS y
    JOIN org_unit AS u
      ON u.level <> 'province'
     AND u.valid_from < make_date(y.year + 1, 1, 1)
     AND (u.valid_to IS NULL OR u.valid_to > make_date(y.year, 1, 1))
    LEFT JOIN _unit_profile AS up ON up.unit_id = u.id
),
staffed AS (
    SELECT un.*,
        CAST(round((0.9 + 0.2 * ur(un.rk, 1)) * CASE un.level
            WHEN 'department' THEN 35 + 18 * CAST(un.weight AS DOUBLE)
            WHEN 'district' THEN 90 + 6 * CAST(un.weight AS DOUBLE)
            ELSE 16 + 7 * CAST(un.weight AS DOUBLE) END) AS INTEGER) AS staff,
        least(1.0, logistic(un.year - 2020.5, 0.15, 0.95, 3.0, 1.1) * un.df * (0.9 + 0.15 * ur(un.rk, 2))) AS trained
    FROM units AS un
)
SELECT unit_id, year, staff,
    CAST(floor(staff * trained) AS INTEGER) AS staff_trained,
    CAST(least(staff, round(staff * least(1.0, trained + 0.08 + 0.1 * ur(rk, 3)))) AS INTEGER) AS training_planned
FROM staffed
ORDER BY unit_id, year;

INSERT INTO adoption (month, users, users_vneid)
WITH monthly AS (
    SELECT CAST(date_trunc('month', received_at) AS DATE) AS month, count(*) FILTER (WHERE channel = 'online') AS online
    FROM dossier
    GROUP BY 1
),
users AS (
    SELECT m.month,
        CAST(round(m.online * 0.82 * (0.95 + 0.1 * ur(rkey(m.month, 0, 0), 1))) AS BIGINT) + 50 AS users,
        d.p_vneid
    FROM monthly AS m
    JOIN _day AS d ON d.day = m.month + 14
)
SELECT month, users, CAST(floor(users * p_vneid) AS BIGINT) AS users_vneid
FROM users
ORDER BY month;
