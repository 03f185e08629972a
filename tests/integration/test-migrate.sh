#!/usr/bin/env bash
# Upgrading a database: one that brokerd left at schema version 7 (made here from schema/001…007
# with the sqlite3 CLI), holding a center and its pools, is migrated when brokerd opens it. Its
# pools come through migration 008 (the pools table keyed without a rowid) unchanged, the
# database passes SQLite's integrity and foreign-key checks, and the center routes as before.
. "$(dirname "$0")/lib.sh"

for tool in sqlite3 jq; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP $tool is not installed"
    exit 0
  fi
done
SCHEMA="$(dirname "$0")/../../schema"
NOW=$(($(date +%s) * 1000))
{
  for f in "$SCHEMA"/00[1-7]-*.sql; do cat "$f"; echo; done
  cat <<SQL
PRAGMA user_version = 7;
INSERT INTO centers (id, name, operator, region, status, labels, staleness_s, created_at, updated_at)
VALUES ('mg-1', 'upgraded center', 'op1', 'cn-shanghai', 'active', '{"tier":"a"}', 86400, $NOW, $NOW);
INSERT INTO feeds (center, idx, adapter, mode, interval_s, last_success, pools_seen)
VALUES ('mg-1', 0, 'native', 'push', 60, $NOW, 2);
INSERT INTO feed_pools (center, idx, model, has_counts, total, free, largest_block, has_price,
                        price, currency, observed_at)
VALUES ('mg-1', 0, 'H800', 1, 64, 40, 8, 1, 28.5, 'CNY', $NOW),
       ('mg-1', 0, 'Ascend910B', 1, 32, 12, 12, 1, 9.25, 'CNY', $NOW);
INSERT INTO pools (center, model, total, free, largest_block, price, spot_price, currency, vendor,
                   memory_gib, domestic, tflops, observed_at)
VALUES ('mg-1', 'H800', 64, 40, 8, 28.5, 12.5, 'CNY', 'NVIDIA', 80, 0, '{"bf16":989.5}', $NOW),
       ('mg-1', 'Ascend910B', 32, 12, 12, 9.25, NULL, 'CNY', NULL, NULL, 1, NULL, $NOW);
SQL
} | sqlite3 "$DB"
ok $? "a version-7 database with a center and two pools is made from schema/001…007"
before=$(sqlite3 "$DB" "SELECT group_concat(quote(center) || quote(model) || quote(total) || quote(free) || quote(largest_block) || quote(price) || quote(spot_price) || quote(currency) || quote(vendor) || quote(memory_gib) || quote(domestic) || quote(tflops) || quote(observed_at), '|') FROM (SELECT * FROM pools ORDER BY center, model)")

start_broker || { ok 1 "brokerd starts on the version-7 database"; done_testing; }
ok 0 "brokerd starts on the version-7 database"
ok "$([ "$(sqlite3 "$DB" "PRAGMA user_version")" = 8 ]; echo $?)" "the database is at version 8"
ok "$(sqlite3 "$DB" "SELECT sql FROM sqlite_master WHERE name = 'pools'" | grep -q 'WITHOUT ROWID'; echo $?)" \
  "pools is keyed without a rowid"
after=$(sqlite3 "$DB" "SELECT group_concat(quote(center) || quote(model) || quote(total) || quote(free) || quote(largest_block) || quote(price) || quote(spot_price) || quote(currency) || quote(vendor) || quote(memory_gib) || quote(domestic) || quote(tflops) || quote(observed_at), '|') FROM (SELECT * FROM pools ORDER BY center, model)")
echo "# pools after: $after"
ok "$([ -n "$before" ] && [ "$before" = "$after" ]; echo $?)" "every pool column came through unchanged"
ok "$([ "$(sqlite3 "$DB" "PRAGMA integrity_check")" = ok ] && [ -z "$(sqlite3 "$DB" "PRAGMA foreign_key_check")" ]; echo $?)" \
  "integrity and foreign keys check"

TEN=$(token tenant acme)
expect GET /v1/centers/mg-1 "" "$TEN" 200 "the center reads back with its pools" \
  '[.pools[] | {model, total, free}] | sort_by(.model) == [{"model":"Ascend910B","total":32,"free":12},{"model":"H800","total":64,"free":40}]'
expect POST /v1/placements '{"precision":"bf16","cards":8,"hours":1,"origin":"cn-shanghai","dry_run":true}' \
  "$TEN" 200 "a dry run routes to the upgraded center" '.pieces[0].center == "mg-1"'
# The foreign key still holds: a pool of an unknown center is refused, and deleting the center
# takes its pools along.
ok "$(sqlite3 "$DB" "PRAGMA foreign_keys = ON; INSERT INTO pools (center, model, total, free, largest_block, price, currency, observed_at) VALUES ('nobody', 'H800', 1, 1, 1, 1, 'CNY', 0)" >/dev/null 2>&1; [ $? -ne 0 ]; echo $?)" \
  "a pool of an unknown center is refused"
OP=$(token operator op1)
expect DELETE /v1/centers/mg-1 "" "$OP" 200 "the center is deleted" '.deleted == true'
ok "$([ "$(sqlite3 "$DB" "SELECT COUNT(*) FROM pools WHERE center = 'mg-1'")" = 0 ]; echo $?)" \
  "its pools went with it"
stop_broker
ok $? "brokerd stops"
done_testing
