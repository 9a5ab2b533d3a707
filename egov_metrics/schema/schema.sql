-- egov-metrics canonical data model, schema version 1.
-- Kept as plain SQL so that it can be read, reviewed and run elsewhere.
-- Conventions:
--   * validity intervals are half-open: [valid_from, valid_to); valid_to NULL = still valid.
--   * working days are counted with calendar_day.wd_index (see the macros at the end).
--   * referential integrity (dossier -> procedure, org_unit) is checked by ingest and by
--     `egov-metrics info --check`; DuckDB foreign keys are not declared because they
--     forbid updating referenced rows, which a corrected reference file must be able to do.

CREATE TABLE schema_version (
    version     INTEGER PRIMARY KEY,
    applied_at  TIMESTAMP NOT NULL DEFAULT current_timestamp,
    description VARCHAR NOT NULL
);

CREATE TABLE meta (
    key   VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

-- Working-day calendar ------------------------------------------------------------------
CREATE TABLE calendar_day (
    day            DATE PRIMARY KEY,
    is_working_day BOOLEAN NOT NULL,
    kind           VARCHAR NOT NULL CHECK (kind IN ('workday', 'weekend', 'holiday', 'declared_off', 'working_weekend')),
    reason_vi      VARCHAR,
    reason_en      VARCHAR,
    wd_index       INTEGER NOT NULL  -- working days from the calendar's first day up to and including this day
);

-- Organisation units with history ---------------------------------------------------------
CREATE TABLE org_unit (
    id           VARCHAR PRIMARY KEY,
    code         VARCHAR NOT NULL,
    name_vi      VARCHAR NOT NULL,
    name_en      VARCHAR NOT NULL,
    level        VARCHAR NOT NULL CHECK (level IN ('province', 'department', 'district', 'commune')),
    parent_id    VARCHAR,
    valid_from   DATE NOT NULL,
    valid_to     DATE,
    successor_id VARCHAR,
    CHECK (valid_to IS NULL OR valid_to > valid_from),
    CHECK (parent_id IS NULL OR parent_id <> id),
    CHECK (successor_id IS NULL OR successor_id <> id)
);

CREATE TABLE org_unit_crosswalk (
    old_id       VARCHAR NOT NULL,
    new_id       VARCHAR NOT NULL,
    effective_on DATE NOT NULL,
    share        DOUBLE NOT NULL DEFAULT 1.0 CHECK (share > 0 AND share <= 1),
    note         VARCHAR,
    PRIMARY KEY (old_id, new_id)
);

-- Administrative procedures (TTHC) --------------------------------------------------------
CREATE TABLE field (
    code    VARCHAR PRIMARY KEY,
    name_vi VARCHAR NOT NULL,
    name_en VARCHAR NOT NULL
);

CREATE TABLE procedure (
    code                    VARCHAR PRIMARY KEY,
    name_vi                 VARCHAR NOT NULL,
    name_en                 VARCHAR,
    field                   VARCHAR NOT NULL,
    level                   VARCHAR NOT NULL CHECK (level IN ('province', 'district', 'commune')),
    online_level            VARCHAR NOT NULL CHECK (online_level IN ('full', 'partial', 'none')),
    full_online_since       DATE,   -- the day it became a full online service (before: partial); NULL = unknown/always
    eligible_full_online    BOOLEAN NOT NULL DEFAULT false,
    statutory_days          INTEGER CHECK (statutory_days >= 0),
    has_fee                 BOOLEAN NOT NULL DEFAULT false,
    requires_paper_result   BOOLEAN NOT NULL DEFAULT false,
    applicant_type          VARCHAR NOT NULL DEFAULT 'both' CHECK (applicant_type IN ('citizen', 'business', 'both')),
    connected_population_db BOOLEAN NOT NULL DEFAULT false,
    content_complete        BOOLEAN NOT NULL DEFAULT true,
    legal_effective_on      DATE,   -- the legal basis took effect
    published_on            DATE,   -- the province published (công bố) the procedure
    disclosed_on            DATE,   -- disclosed (công khai) in the national procedure database
    valid_to                DATE    -- abolished from this day
);

CREATE TABLE unit_procedure (
    unit_id        VARCHAR NOT NULL,
    procedure_code VARCHAR NOT NULL,
    PRIMARY KEY (unit_id, procedure_code)
);

-- Dossiers (hồ sơ) ------------------------------------------------------------------------
CREATE TABLE dossier (
    id                       VARCHAR PRIMARY KEY,
    procedure_code           VARCHAR NOT NULL,
    unit_id                  VARCHAR NOT NULL,
    channel                  VARCHAR NOT NULL CHECK (channel IN ('online', 'in_person', 'post')),
    applicant_type           VARCHAR NOT NULL DEFAULT 'citizen' CHECK (applicant_type IN ('citizen', 'business')),
    received_at              TIMESTAMP NOT NULL,
    due_at                   TIMESTAMP,
    finished_at              TIMESTAMP,
    returned_at              TIMESTAMP,
    status                   VARCHAR NOT NULL
        CHECK (status IN ('processing', 'supplementing', 'finished', 'returned', 'withdrawn', 'rejected')),
    supplement_count         SMALLINT NOT NULL DEFAULT 0 CHECK (supplement_count >= 0),
    supplement_days          INTEGER NOT NULL DEFAULT 0 CHECK (supplement_days >= 0),
    e_result                 BOOLEAN NOT NULL DEFAULT false,
    digitized                BOOLEAN NOT NULL DEFAULT false,
    reused_data              BOOLEAN NOT NULL DEFAULT false,
    linked_to_citizen_store  BOOLEAN NOT NULL DEFAULT false,
    used_population_data     BOOLEAN NOT NULL DEFAULT false,
    synced_to_national       BOOLEAN NOT NULL DEFAULT false,
    synced_at                TIMESTAMP,
    has_financial_obligation BOOLEAN NOT NULL DEFAULT false,
    paid_online              BOOLEAN NOT NULL DEFAULT false,
    complaint                BOOLEAN NOT NULL DEFAULT false,
    rating                   VARCHAR CHECK (rating IN ('very_satisfied', 'satisfied', 'dissatisfied')),
    source                   VARCHAR NOT NULL DEFAULT 'unknown',
    CHECK (finished_at IS NULL OR finished_at >= received_at),
    CHECK (returned_at IS NULL OR returned_at >= received_at),
    CHECK (due_at IS NULL OR due_at >= received_at),
    CHECK (status NOT IN ('finished', 'returned') OR finished_at IS NOT NULL),
    CHECK (NOT paid_online OR has_financial_obligation),
    CHECK (NOT synced_to_national OR synced_at IS NULL OR synced_at >= received_at)
);

-- Citizen feedback (phản ánh, kiến nghị) --------------------------------------------------
CREATE TABLE feedback (
    id          VARCHAR PRIMARY KEY,
    unit_id     VARCHAR NOT NULL,
    received_at TIMESTAMP NOT NULL,
    due_at      TIMESTAMP,
    handled_at  TIMESTAMP,
    satisfied   BOOLEAN,
    topic       VARCHAR,
    source      VARCHAR NOT NULL DEFAULT 'unknown',
    CHECK (handled_at IS NULL OR handled_at >= received_at),
    CHECK (due_at IS NULL OR due_at >= received_at)
);

-- Integration traffic (LGSP / NDXP) -------------------------------------------------------
CREATE TABLE data_exchange (
    day           DATE NOT NULL,
    platform      VARCHAR NOT NULL CHECK (platform IN ('LGSP', 'NDXP')),
    source_system VARCHAR NOT NULL,
    target_system VARCHAR NOT NULL,
    requests      BIGINT NOT NULL CHECK (requests >= 0),
    failures      BIGINT NOT NULL DEFAULT 0 CHECK (failures >= 0),
    source        VARCHAR NOT NULL DEFAULT 'unknown',
    CHECK (failures <= requests),
    PRIMARY KEY (day, platform, source_system, target_system)
);

-- Internal e-office (văn bản điện tử) ------------------------------------------------------
CREATE TABLE e_office (
    unit_id              VARCHAR NOT NULL,
    month                DATE NOT NULL CHECK (day(month) = 1),
    documents_total      BIGINT NOT NULL CHECK (documents_total >= 0),
    documents_electronic BIGINT NOT NULL CHECK (documents_electronic >= 0),
    CHECK (documents_electronic <= documents_total),
    PRIMARY KEY (unit_id, month)
);

-- Architecture framework (7 layers) -------------------------------------------------------
CREATE TABLE arch_layer (
    layer   TINYINT PRIMARY KEY CHECK (layer BETWEEN 1 AND 7),
    name_vi VARCHAR NOT NULL,
    name_en VARCHAR NOT NULL
);

CREATE TABLE roadmap_phase (
    id         VARCHAR PRIMARY KEY,
    name_vi    VARCHAR NOT NULL,
    name_en    VARCHAR NOT NULL,
    start_date DATE NOT NULL,
    end_date   DATE NOT NULL,
    goals_vi   VARCHAR,
    goals_en   VARCHAR,
    CHECK (end_date > start_date)
);

CREATE TABLE arch_component (
    id         VARCHAR PRIMARY KEY,
    layer      TINYINT NOT NULL CHECK (layer BETWEEN 1 AND 7),
    name_vi    VARCHAR NOT NULL,
    name_en    VARCHAR NOT NULL,
    phase_id   VARCHAR NOT NULL,
    status     VARCHAR NOT NULL CHECK (status IN ('planned', 'in_progress', 'in_operation', 'retired')),
    planned_at DATE NOT NULL,
    live_at    DATE,
    owner_unit VARCHAR,
    CHECK (status NOT IN ('in_operation', 'retired') OR live_at IS NOT NULL)
);

CREATE TABLE arch_dependency (
    component_id VARCHAR NOT NULL,
    depends_on   VARCHAR NOT NULL,
    PRIMARY KEY (component_id, depends_on),
    CHECK (component_id <> depends_on)
);

CREATE TABLE target (
    phase_id       VARCHAR NOT NULL,
    indicator      VARCHAR NOT NULL,
    unit_level     VARCHAR NOT NULL DEFAULT 'province'
        CHECK (unit_level IN ('province', 'department', 'district', 'commune')),
    year           INTEGER NOT NULL,
    value          DOUBLE NOT NULL,
    is_phase_end   BOOLEAN NOT NULL DEFAULT false,
    baseline_value DOUBLE,
    baseline_date  DATE,
    source         VARCHAR NOT NULL,
    PRIMARY KEY (phase_id, indicator, unit_level, year)
);

-- Resources ------------------------------------------------------------------------------
CREATE TABLE workforce (
    unit_id          VARCHAR NOT NULL,
    year             INTEGER NOT NULL,
    staff            INTEGER NOT NULL CHECK (staff >= 0),
    staff_trained    INTEGER NOT NULL CHECK (staff_trained >= 0),
    training_planned INTEGER CHECK (training_planned >= 0),
    CHECK (staff_trained <= staff),
    PRIMARY KEY (unit_id, year)
);

CREATE TABLE adoption (
    month       DATE PRIMARY KEY CHECK (day(month) = 1),
    users       BIGINT NOT NULL CHECK (users >= 0),
    users_vneid BIGINT NOT NULL CHECK (users_vneid >= 0),
    CHECK (users_vneid <= users)
);

-- Ingest bookkeeping ------------------------------------------------------------------------
CREATE SEQUENCE ingest_run_seq START 1;

CREATE TABLE ingest_run (
    id          INTEGER PRIMARY KEY DEFAULT nextval('ingest_run_seq'),
    kind        VARCHAR NOT NULL,
    file        VARCHAR NOT NULL,
    sha256      VARCHAR NOT NULL,
    mapping     VARCHAR NOT NULL,
    started_at  TIMESTAMP NOT NULL,
    finished_at TIMESTAMP NOT NULL,
    rows_read   BIGINT NOT NULL,
    inserted    BIGINT NOT NULL,
    updated     BIGINT NOT NULL,
    unchanged   BIGINT NOT NULL,
    rejected    BIGINT NOT NULL
);

CREATE TABLE quarantine (
    run_id     INTEGER NOT NULL,
    kind       VARCHAR NOT NULL,
    file       VARCHAR NOT NULL,
    row_number BIGINT NOT NULL,   -- 1-based line/row number in the source file, header included
    "column"   VARCHAR,
    value      VARCHAR,
    reason     VARCHAR NOT NULL,  -- in English
    record     VARCHAR,           -- the whole source row as JSON, so nothing is lost
    reason_vi  VARCHAR,           -- the reason in Vietnamese (NULL in rows of a version before it)
    problem    VARCHAR            -- the kind of problem (ingest.sql.PROBLEMS, or 'rule'); NULL likewise
);

-- Working-day arithmetic ------------------------------------------------------------------
-- Working days elapsed from a to b: working days in (a::DATE, b::DATE]. A dossier received on
-- Friday and finished on Monday took 1 working day; received on Saturday, finished Monday: 1.
CREATE MACRO wd_between(a, b) AS
    (SELECT wd_index FROM calendar_day WHERE day = CAST(b AS DATE))
  - (SELECT wd_index FROM calendar_day WHERE day = CAST(a AS DATE));

-- The date n working days after d (n >= 1); for n = 0, d itself.
CREATE MACRO wd_add(d, n) AS
    CASE WHEN n = 0 THEN CAST(d AS DATE) ELSE
    (SELECT min(c.day) FROM calendar_day c
      WHERE c.is_working_day
        AND c.wd_index = (SELECT wd_index FROM calendar_day WHERE day = CAST(d AS DATE)) + n) END;

-- Is this date a working day?
CREATE MACRO is_working_day(d) AS
    (SELECT is_working_day FROM calendar_day WHERE day = CAST(d AS DATE));
