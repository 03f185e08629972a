-- 001-initial: the inventory, identity, decision and placement tables.
-- Timestamps are integer Unix milliseconds (UTC). Applied once, in order, by
-- store.c, which records the migration number in PRAGMA user_version.

-- The accelerator catalog. Throughput is dense peak TFLOPS (TOPS for int8);
-- 0 means not supported or not published. memory_gib holds the marketed size.
CREATE TABLE accelerators (
    model      TEXT PRIMARY KEY,          -- canonical short name: 'A100', 'H800', 'Ascend910B'
    name       TEXT NOT NULL,             -- full product name from the source table
    vendor     TEXT NOT NULL,
    domestic   INTEGER NOT NULL CHECK (domestic IN (0, 1)),
    memory_gib REAL NOT NULL,
    fp64       REAL NOT NULL DEFAULT 0,
    fp32       REAL NOT NULL DEFAULT 0,
    tf32       REAL NOT NULL DEFAULT 0,
    bf16       REAL NOT NULL DEFAULT 0,
    fp16       REAL NOT NULL DEFAULT 0,
    fp8        REAL NOT NULL DEFAULT 0,
    int8       REAL NOT NULL DEFAULT 0,
    confidence TEXT NOT NULL DEFAULT 'medium',
    source     TEXT NOT NULL DEFAULT ''
);

-- Names that feeds really use, resolved case-insensitively to a catalog row.
CREATE TABLE accelerator_aliases (
    alias TEXT PRIMARY KEY COLLATE NOCASE,
    model TEXT NOT NULL REFERENCES accelerators(model)
);

CREATE TABLE regions (
    id   TEXT PRIMARY KEY,                -- 'cn-shanghai'
    city TEXT NOT NULL,
    lat  REAL NOT NULL,
    lon  REAL NOT NULL,
    hub  TEXT                             -- East Data West Computing hub, or NULL
);

-- Round-trip time between two regions; the pair is stored once with a < b.
CREATE TABLE latency (
    a          TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    b          TEXT NOT NULL REFERENCES regions(id) ON DELETE CASCADE,
    rtt_ms     REAL NOT NULL CHECK (rtt_ms >= 0),
    source     TEXT NOT NULL CHECK (source IN ('measured', 'configured', 'estimated')),
    note       TEXT NOT NULL DEFAULT '',
    updated_at INTEGER NOT NULL,
    PRIMARY KEY (a, b),
    CHECK (a < b)
);

CREATE TABLE tenants (
    id         TEXT PRIMARY KEY,
    name       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Bearer tokens, stored as the hex SHA-256 of the token; the token itself is never kept.
CREATE TABLE tokens (
    hash       TEXT PRIMARY KEY,
    role       TEXT NOT NULL CHECK (role IN ('admin', 'operator', 'tenant')),
    subject    TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

CREATE TABLE centers (
    id          TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    operator    TEXT NOT NULL,
    region      TEXT NOT NULL REFERENCES regions(id),
    status      TEXT NOT NULL CHECK (status IN ('active', 'draining', 'disabled')),
    labels      TEXT NOT NULL DEFAULT '{}',   -- JSON object of string values
    staleness_s INTEGER NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);

CREATE TABLE feeds (
    center        TEXT NOT NULL REFERENCES centers(id) ON DELETE CASCADE,
    idx           INTEGER NOT NULL,
    adapter       TEXT NOT NULL,
    mode          TEXT NOT NULL CHECK (mode IN ('push', 'pull')),
    url           TEXT,
    interval_s    INTEGER NOT NULL DEFAULT 60,
    options       TEXT NOT NULL DEFAULT '{}',
    last_success  INTEGER,
    last_error    TEXT,
    last_error_at INTEGER,
    PRIMARY KEY (center, idx)
);

-- The last good snapshot of each (center, model) pool.
CREATE TABLE pools (
    center        TEXT NOT NULL REFERENCES centers(id) ON DELETE CASCADE,
    model         TEXT NOT NULL,
    total         INTEGER NOT NULL CHECK (total >= 0),
    free          INTEGER NOT NULL CHECK (free >= 0),
    largest_block INTEGER NOT NULL CHECK (largest_block >= 0),
    price         REAL NOT NULL,            -- list price per card-hour, in `currency`
    spot_price    REAL,
    currency      TEXT NOT NULL,
    vendor        TEXT,                     -- stated by the feed, else NULL (catalog)
    memory_gib    REAL,
    domestic      INTEGER,
    tflops        TEXT,                     -- JSON object of stated per-precision figures
    observed_at   INTEGER NOT NULL,
    PRIMARY KEY (center, model)
);

CREATE TABLE vouchers (
    id          TEXT PRIMARY KEY,
    issuer      TEXT NOT NULL,
    tenant      TEXT NOT NULL,
    rate        REAL NOT NULL CHECK (rate > 0 AND rate <= 1),
    amount      REAL NOT NULL CHECK (amount >= 0),
    balance     REAL NOT NULL CHECK (balance >= 0),
    valid_from  INTEGER NOT NULL,
    valid_until INTEGER NOT NULL,
    eligible    TEXT NOT NULL DEFAULT '{}',  -- JSON {"regions":[],"centers":[],"domestic_only":false}
    created_at  INTEGER NOT NULL
);

-- Every movement of a voucher's balance: issued, drawn by a confirm, refunded by a release.
CREATE TABLE voucher_ledger (
    seq       INTEGER PRIMARY KEY AUTOINCREMENT,
    voucher   TEXT NOT NULL REFERENCES vouchers(id),
    at        INTEGER NOT NULL,
    kind      TEXT NOT NULL CHECK (kind IN ('issue', 'draw', 'refund')),
    amount    REAL NOT NULL,                -- signed: + into the balance, - out of it
    balance   REAL NOT NULL,                -- the balance after this movement
    placement TEXT,
    note      TEXT NOT NULL DEFAULT ''
);
CREATE INDEX voucher_ledger_voucher ON voucher_ledger (voucher, seq);

-- Every routing decision, with its full record as JSON.
CREATE TABLE decisions (
    id      TEXT PRIMARY KEY,
    tenant  TEXT NOT NULL,
    at      INTEGER NOT NULL,
    outcome TEXT NOT NULL CHECK (outcome IN ('placed', 'quoted', 'unplaceable')),
    record  TEXT NOT NULL
);
CREATE INDEX decisions_tenant_at ON decisions (tenant, at);
CREATE INDEX decisions_at ON decisions (at);

CREATE TABLE placements (
    id              TEXT PRIMARY KEY,
    tenant          TEXT NOT NULL,
    state           TEXT NOT NULL CHECK (state IN ('held', 'confirmed', 'released', 'expired')),
    decision_id     TEXT NOT NULL,
    created_at      INTEGER NOT NULL,
    expires_at      INTEGER NOT NULL,
    confirmed_at    INTEGER,
    ended_at        INTEGER,
    hours           REAL NOT NULL,
    precision       TEXT NOT NULL,
    voucher         TEXT,
    currency        TEXT NOT NULL,
    list_total      REAL NOT NULL,
    subsidy         REAL NOT NULL,
    effective_total REAL NOT NULL,
    refunded        REAL NOT NULL DEFAULT 0,  -- subsidy given back to the voucher on release
    idempotency_key TEXT,
    request_hash    TEXT
);
CREATE UNIQUE INDEX placements_idempotency ON placements (tenant, idempotency_key)
    WHERE idempotency_key IS NOT NULL;
CREATE INDEX placements_state ON placements (state, expires_at);
CREATE INDEX placements_tenant ON placements (tenant, created_at);

CREATE TABLE placement_pieces (
    placement       TEXT NOT NULL REFERENCES placements(id) ON DELETE CASCADE,
    seq             INTEGER NOT NULL,
    center          TEXT NOT NULL,
    region          TEXT NOT NULL,
    model           TEXT NOT NULL,
    cards           INTEGER NOT NULL CHECK (cards > 0),
    price           REAL NOT NULL,           -- CNY per card-hour
    rtt_ms          REAL NOT NULL,
    list_total      REAL NOT NULL,
    subsidy         REAL NOT NULL,
    effective_total REAL NOT NULL,
    PRIMARY KEY (placement, seq)
);
CREATE INDEX placement_pieces_pool ON placement_pieces (center, model);
