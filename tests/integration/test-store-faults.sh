#!/usr/bin/env bash
# The database under faults, against the real brokerd (issue 6). A file that is not a database
# at start: brokerd refuses to start with a message naming the problem, exits non-zero and
# leaves the file as it was (junk, and a real database whose first page was overwritten).
# A write lock held by another process (the sqlite3 shell in BEGIN EXCLUSIVE): a hold waits
# out the busy timeout and gets 503 "busy", reads go on, nothing is lost, and once the lock
# is gone holds work again. A full disk is tested at the store level (test-store.c:
# max_page_count), as brokerd has no size limit of its own.
. "$(dirname "$0")/lib.sh"

for tool in jq curl sqlite3 cmp; do
  if ! command -v "$tool" >/dev/null; then
    echo "1..0 # SKIP $tool is not installed"
    exit 0
  fi
done

# start_fails DESCRIPTION: brokerd on $DB must exit non-zero, saying why, within 10 s.
start_fails() {
  : >"$WORK/start.log"
  SUANWANG_ADMIN_TOKEN="$ADMIN" timeout 10 "$BROKERD" --listen 127.0.0.1:0 --db "$DB" \
    --port-file "$WORK/port.bad" >"$WORK/start.log" 2>&1
  local rc=$?
  ok "$([ "$rc" -ne 0 ] && [ "$rc" -ne 124 ] && [ ! -s "$WORK/port.bad" ]; echo $?)" \
    "$1: brokerd refuses to start (exit $rc)"
  sed 's/^/# /' "$WORK/start.log" | head -5
  grep -qiE 'not a database|malformed|corrupt' "$WORK/start.log"
  ok $? "$1: the message says the file is not a good database"
}

# ---- a file of junk ----
head -c 16384 /dev/urandom >"$DB"
cp "$DB" "$WORK/junk.copy"
start_fails "a file of junk"
cmp -s "$DB" "$WORK/junk.copy"
ok $? "a file of junk: left as it was"
ok "$([ ! -e "$DB-wal" ] || [ ! -s "$DB-wal" ]; echo $?)" "a file of junk: no WAL written next to it"
rm -f "$DB" "$DB-wal" "$DB-shm"

# ---- a real database with its header overwritten ----
start_broker || { ok 1 "brokerd starts on a new database"; done_testing; }
stop_broker
ok $? "a database made and closed cleanly"
printf 'this is not the header of a database file' | dd of="$DB" conv=notrunc status=none
cp "$DB" "$WORK/broken.copy"
start_fails "a database with a broken header"
cmp -s "$DB" "$WORK/broken.copy"
ok $? "a database with a broken header: left as it was"
rm -f "$DB" "$DB-wal" "$DB-shm"

# ---- a write lock held by another process ----
start_broker || { ok 1 "brokerd starts"; done_testing; }
OP=$(token operator op1)
TEN=$(token tenant acme)
expect POST /v1/centers "$(center_doc sh-1 cn-shanghai)" "$OP" 201 "register sh-1"
expect POST /v1/centers/sh-1/feed "$(feed_doc sh-1 H800:64:32:28.5)" "$OP" 200 "sh-1 has 32 H800"
HOLD='{"precision":"bf16","cards":2,"hours":1,"origin":"cn-shanghai"}'
expect POST /v1/placements "$HOLD" "$TEN" 201 "a hold before the lock" '.state == "held"'
first=$(jqv .id)

mkfifo "$WORK/sql.in"
sqlite3 "$DB" <"$WORK/sql.in" >"$WORK/sql.out" 2>&1 &
SQL_PID=$!
exec 3>"$WORK/sql.in"
echo "BEGIN EXCLUSIVE; INSERT INTO tenants (id, name, created_at) VALUES ('lock', 'lock', 0); SELECT 'locked';" >&3
for _ in $(seq 1 100); do
  grep -q locked "$WORK/sql.out" && break
  sleep 0.05
done
grep -q locked "$WORK/sql.out"
ok $? "the sqlite3 shell holds the write lock"
sed 's/^/# /' "$WORK/sql.out" | grep -v locked | head -5

t0=$(date +%s.%N)
expect POST /v1/placements "$HOLD" "$TEN" 503 "a hold under the lock: 503" \
  '.type | test("busy")'
t1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" 'BEGIN { printf "# the hold waited %.2f s\n", b - a }'
ok "$(awk -v a="$t0" -v b="$t1" 'BEGIN { exit !(b - a >= 1 && b - a < 15) }'; echo $?)" \
  "after waiting out the busy timeout"
expect GET "/v1/placements/$first" "" "$TEN" 200 "reads go on under the lock" '.state == "held"'
expect GET /healthz "" "" 200 "healthz answers under the lock"
expect GET /v1/centers/sh-1 "" "$TEN" 200 "the center reads under the lock" \
  '.pools[0].held == 2'

echo "ROLLBACK;" >&3
exec 3>&-
wait "$SQL_PID"
ok $? "the sqlite3 shell lets go and exits"
expect POST /v1/placements "$HOLD" "$TEN" 201 "a hold after the lock is gone" '.state == "held"'
expect GET /v1/placements "" "$TEN" 200 "two holds, the refused one absent" \
  '.placements | length == 2'
expect GET /v1/centers/sh-1 "" "$TEN" 200 "capacity counts the two holds" \
  '.pools[0].held == 4 and .pools[0].available == 28'
stop_broker
ok $? "SIGTERM stops the daemon with status 0"
start_broker || { ok 1 "brokerd restarts"; done_testing; }
expect GET /v1/placements "" "$TEN" 200 "after a restart both holds are there" \
  '.placements | length == 2 and all(.[]; .state == "held")'
done_testing
