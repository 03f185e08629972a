-- 006-decision-epochs: decisions keep their routing inputs by reference.
--
-- An epoch is the request-independent routing input (centers, regions,
-- latency, pools with traits and prices; routebase.h) as one JSON document,
-- written once when the first decision is made on it. A decision keeps its
-- summary in `record` (request, choice, alternatives, totals, reasons,
-- explanation), the epoch it was routed on, its place in the order of
-- decisions (`seq`), and the vouchers it saw (`inputs`). Its full candidate
-- list is computed again on read from the epoch, the decision's time and the
-- placements live at `seq`, which the three *_seq columns of placements
-- record: a placement counts at decision s when it was created before s and
-- neither confirmed nor ended before s, or confirmed before s and not ended
-- before s. A transition is stamped with the last decision's seq: it happened
-- after that decision and before the next.
CREATE TABLE epochs (
    id   INTEGER PRIMARY KEY,
    at   INTEGER NOT NULL,
    base TEXT NOT NULL
);

ALTER TABLE decisions ADD COLUMN seq INTEGER;
ALTER TABLE decisions ADD COLUMN epoch INTEGER REFERENCES epochs(id);
ALTER TABLE decisions ADD COLUMN inputs TEXT;
CREATE UNIQUE INDEX decisions_seq ON decisions (seq) WHERE seq IS NOT NULL;

ALTER TABLE placements ADD COLUMN created_seq INTEGER NOT NULL DEFAULT 0;
ALTER TABLE placements ADD COLUMN confirmed_seq INTEGER;
ALTER TABLE placements ADD COLUMN ended_seq INTEGER;
-- Everything that happened before this migration happened before every decision after it.
UPDATE placements SET confirmed_seq = 0 WHERE confirmed_at IS NOT NULL;
UPDATE placements SET ended_seq = 0 WHERE state IN ('released', 'expired');
