-- 004-feed-pools: each feed keeps its own last good snapshot; a center's pools
-- are the merge of its feeds (counts from a capacity feed, prices from the
-- same feed or a price feed), recomputed whenever one feed changes.

CREATE TABLE feed_pools (
    center        TEXT NOT NULL,
    idx           INTEGER NOT NULL,
    model         TEXT NOT NULL,            -- canonical catalog model when known
    has_counts    INTEGER NOT NULL CHECK (has_counts IN (0, 1)),
    total         INTEGER NOT NULL DEFAULT 0 CHECK (total >= 0),
    free          INTEGER NOT NULL DEFAULT 0 CHECK (free >= 0),
    largest_block INTEGER NOT NULL DEFAULT 0 CHECK (largest_block >= 0),
    has_price     INTEGER NOT NULL CHECK (has_price IN (0, 1)),
    price         REAL,
    spot_price    REAL,
    currency      TEXT,
    vendor        TEXT,
    memory_gib    REAL,
    domestic      INTEGER,
    tflops        TEXT,
    observed_at   INTEGER NOT NULL,
    PRIMARY KEY (center, idx, model),
    FOREIGN KEY (center, idx) REFERENCES feeds (center, idx) ON DELETE CASCADE
);

-- Every pool so far came from a center's push feed: keep it as that feed's snapshot.
INSERT INTO feed_pools (center, idx, model, has_counts, total, free, largest_block, has_price,
                        price, spot_price, currency, vendor, memory_gib, domestic, tflops,
                        observed_at)
SELECT p.center, f.idx, p.model, 1, p.total, p.free, p.largest_block, 1, p.price, p.spot_price,
       p.currency, p.vendor, p.memory_gib, p.domestic, p.tflops, p.observed_at
FROM pools p
JOIN feeds f ON f.center = p.center
    AND f.idx = (SELECT MIN(idx) FROM feeds WHERE center = p.center AND mode = 'push');

ALTER TABLE feeds ADD COLUMN warning TEXT;          -- partial data noted by the adapter
ALTER TABLE feeds ADD COLUMN auth TEXT NOT NULL DEFAULT '{}';  -- secrets; never returned
ALTER TABLE feeds ADD COLUMN h2c INTEGER NOT NULL DEFAULT 0;   -- HTTP/2 prior knowledge
ALTER TABLE feeds ADD COLUMN pools_seen INTEGER;    -- pools in the last good snapshot
