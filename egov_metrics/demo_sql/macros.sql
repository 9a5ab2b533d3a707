-- Helpers of the demo generator (temporary: they live only in the building connection).
-- Randomness is a hash of stable keys and the seed, never random(): the same seed gives the same rows
-- whatever the thread scheduling.

-- Mix a 64-bit key with a value. Not DuckDB's hash(a, b): its combination of the arguments keeps their
-- hashes nearly additive, so that hash(k, 1) and hash(k, 3) are strongly correlated (r = 0.88). Re-hashing
-- the key first also makes the mix asymmetric (mix(hash(a), b) <> mix(hash(b), a)).
CREATE OR REPLACE TEMP MACRO mix(k, v) AS
    hash(xor(hash(CAST(k AS UBIGINT)), hash(v)));

-- A row key from up to three stable values and the seed.
CREATE OR REPLACE TEMP MACRO rkey(a, b, c) AS
    mix(mix(mix(hash(a), b), c), getvariable('demo_seed'));

-- A uniform number in [0, 1) from a row key and a salt (53 bits).
CREATE OR REPLACE TEMP MACRO ur(rk, salt) AS
    CAST(mix(rk, salt) >> 11 AS DOUBLE) / 9007199254740992.0;

-- S-curve from lo (long before mid) to hi (long after), in years since the start of the data.
CREATE OR REPLACE TEMP MACRO logistic(x, lo, hi, mid, k) AS
    lo + (hi - lo) / (1 + exp(-k * (x - mid)));

-- Is a demo architecture component live on day d? (false when the component is unknown)
CREATE OR REPLACE TEMP MACRO component_live(component, d) AS
    coalesce((SELECT live_at <= d FROM arch_component WHERE id = component), false);
