-- 007-feed-in-pools: a center's only feed keeps its last good snapshot once.
-- When every pool of that snapshot has counts and a price, merging one feed
-- changes nothing, so the center's pools rows are the snapshot: its feed_pools
-- rows are left out and in_pools = 1 says where they are. Reading a center's
-- feed snapshots reads them from pools, and any change to the center's feeds
-- first copies them back into feed_pools (store.c).

ALTER TABLE feeds ADD COLUMN in_pools INTEGER NOT NULL DEFAULT 0 CHECK (in_pools IN (0, 1));
