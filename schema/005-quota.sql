-- 005-quota: a per-tenant quota of cards held at once. NULL means the broker's
-- configured default (`max_cards_held_per_tenant`, 0 = unlimited); 0 means
-- unlimited for this tenant; N > 0 caps the cards in the tenant's live holds.
-- Confirmed placements do not count: a hold is free, a confirm is paid for.

ALTER TABLE tenants ADD COLUMN max_cards_held INTEGER CHECK (max_cards_held IS NULL OR max_cards_held >= 0);

-- The quota check sums the cards of one tenant's live holds.
CREATE INDEX placements_tenant_state ON placements (tenant, state, expires_at);
