-- Daily integration traffic per platform and flow (demo_data/exchange_systems.csv): growth since go-live,
-- less on days off, failures mostly 0.4-2.6 % with rare bad days (flow-level and platform-wide outages).
INSERT INTO data_exchange (day, platform, source_system, target_system, requests, failures, source)
WITH flows AS (
    SELECT d.day, d.day_no, d.is_working_day, s.platform, s.source_system, s.target_system,
        s.base_daily, s.growth, s.live_from,
        rkey(s.platform || ':' || s.source_system || ':' || s.target_system, d.day_no, 0) AS rk,
        rkey(s.platform, d.day_no, 1) AS platform_key
    FROM _day AS d
    JOIN _src_exchange AS s ON d.day >= s.live_from
),
volumes AS (
    SELECT f.*,
        CAST(round(f.base_daily * pow(f.growth, date_diff('day', f.live_from, f.day) / 365.25)
                   * CASE WHEN f.is_working_day THEN 1.0 ELSE 0.22 END
                   * (0.8 + 0.4 * ur(f.rk, 1))) AS BIGINT) AS requests,
        CASE WHEN ur(f.platform_key, 2) < 0.006 THEN 0.2 + 0.3 * ur(f.platform_key, 3)   -- platform outage
             WHEN ur(f.rk, 2) < 0.008 THEN 0.06 + 0.25 * ur(f.rk, 3)                     -- a bad day
             ELSE 0.004 + 0.022 * pow(ur(f.rk, 3), 3) END AS failure_rate
    FROM flows AS f
)
SELECT day, platform, source_system, target_system, requests,
    CAST(floor(requests * failure_rate) AS BIGINT) AS failures, 'demo' AS source
FROM volumes
ORDER BY day, platform, source_system, target_system;
