#!/usr/bin/env python3
"""Client side of test-killnine.sh: a load driver and a checker, both talking HTTP/2 through
curl --http2-prior-knowledge (Python's standard library has no HTTP/2 client).

drive URL LOG ROUND ROUND=TOKEN...: WORKERS threads make holds, confirms and releases as fast as
they can (at most KILLNINE_MAX_HOLDS holds, default 200) and append one JSON line per event to LOG: "intent" before a request is sent, "ack" when its
success answer arrived (the change is acknowledged), "nack" when a definite refusal arrived
(409: no capacity), "error" for any other answer. A worker stops at its first transport
failure (brokerd was killed): that request stays an intent without an answer, in flight.
When a hold is refused (the pool is full) the worker releases a placement kept earlier, so the
pool stays contended for the whole run.

check URL CENTER FREE LOG ROUND=TOKEN...: after a restart on the same database (rounds may share
a tenant's token), checks that every acknowledged change survived and the capacity accounting is exact; prints TAP-free lines
"FAIL ..." / "INFO ..." and exits 1 on any failure. Holds whose answer was lost are resolved by
retrying them with their Idempotency-Key and body, as a real client would: 200 means it had
landed before the kill, 201 that it had not (and it is an acknowledged hold from now on).
"""
import json
import os
import random
import subprocess
import sys
import threading
import time

WORKERS = 4
MAX_HOLDS_PER_ROUND = int(os.environ.get("KILLNINE_MAX_HOLDS", "200"))


def curl(url, method, path, token, body=None, key=None, timeout=10):
    """Returns (status, parsed body or None); status 0 when the transport failed."""
    args = ["curl", "-s", "--http2-prior-knowledge", "-X", method, "--max-time", str(timeout),
            "-o", "-", "-w", "\n%{http_code}", "-H", "Authorization: Bearer " + token]
    if key is not None:
        args += ["-H", "Idempotency-Key: " + key]
    if body is not None:
        args += ["-H", "Content-Type: application/json", "--data-binary", body]
    args.append(url + path)
    p = subprocess.run(args, capture_output=True, text=True)
    out = p.stdout
    text, _, code = out.rpartition("\n")
    try:
        status = int(code)
    except ValueError:
        status = 0
    if p.returncode != 0:
        status = 0  # no complete answer: not acknowledged, whatever arrived
    try:
        doc = json.loads(text) if text else None
    except ValueError:
        doc = None
    return status, doc


class Log:
    def __init__(self, path):
        self.f = open(path, "a", buffering=1)
        self.lock = threading.Lock()

    def write(self, **rec):
        rec["t"] = round(time.time(), 4)
        with self.lock:
            self.f.write(json.dumps(rec, sort_keys=True) + "\n")
            self.f.flush()


def live_placements(log_path):
    """Acknowledged placements still held or confirmed, with their round: {id: round}."""
    live = {}
    try:
        lines = open(log_path).readlines()
    except FileNotFoundError:
        return live
    for line in lines:
        r = json.loads(line)
        if r["ev"] != "ack":
            continue
        if r["state"] in ("held", "confirmed"):
            live[r["id"]] = r["round"]
        else:
            live.pop(r["id"], None)
    return live


def drive(url, log_path, rnd, tokens):
    live = live_placements(log_path)  # kept by earlier rounds: released when the pool is full
    log = Log(log_path)
    token = tokens[rnd]
    holds = [0]
    lock = threading.Lock()
    stop = threading.Event()

    def op(kind, path, body, key, pid, want, owner=rnd):
        log.write(ev="intent", op=kind, id=pid, key=key, body=body, round=owner)
        status, doc = curl(url, "POST", path, tokens[owner], body=body, key=key)
        if status == 0:
            stop.set()
            return None
        if status == want:
            if kind == "hold":
                cards = sum(p["cards"] for p in doc["pieces"])
                log.write(ev="ack", op=kind, id=doc["id"], key=key, state=doc["state"],
                          cards=cards, round=owner)
            else:
                log.write(ev="ack", op=kind, id=pid, state=doc["state"], round=owner)
            return doc
        if status == 409:
            log.write(ev="nack", op=kind, id=pid, key=key, status=status, round=owner)
        else:
            log.write(ev="error", op=kind, id=pid, key=key, status=status,
                      body=json.dumps(doc)[:300], round=owner)
        return None

    def worker(w):
        rng = random.Random()
        n = 0
        while not stop.is_set():
            with lock:
                if holds[0] >= MAX_HOLDS_PER_ROUND:
                    return
                holds[0] += 1
            n += 1
            key = "k9-r%d-w%d-%d-%08x" % (rnd, w, n, rng.getrandbits(32))
            body = json.dumps({"precision": "bf16", "cards": rng.randint(1, 4), "hours": 2,
                               "origin": "cn-shanghai", "hold_seconds": 86400})
            doc = op("hold", "/v1/placements", body, key, None, 201)
            if doc is None or doc.get("state") != "held":
                # Full: free someone's kept placement, so the pool stays contended.
                victim = None
                with lock:
                    if live and not stop.is_set():
                        victim = rng.choice(sorted(live))
                        owner = live.pop(victim)
                if victim is not None:
                    op("release", "/v1/placements/%s/release" % victim, "{}", None, victim,
                       200, owner)
                continue
            pid = doc["id"]
            r = rng.random()
            if r < 0.1:
                with lock:
                    live[pid] = rnd  # stays held
                continue
            if r < 0.3:
                op("release", "/v1/placements/%s/release" % pid, "{}", None, pid, 200)
                continue
            if op("confirm", "/v1/placements/%s/confirm" % pid, "{}", None, pid, 200) is None:
                continue
            if rng.random() < 0.7:
                op("release", "/v1/placements/%s/release" % pid, "{}", None, pid, 200)
            else:
                with lock:
                    live[pid] = rnd  # stays confirmed

    threads = [threading.Thread(target=worker, args=(w,)) for w in range(WORKERS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return 0


TARGET = {"hold": "held", "confirm": "confirmed", "release": "released"}


def check(url, center, free, log_path, tokens):
    fails = []
    info = []
    recs = [json.loads(line) for line in open(log_path) if line.strip()]

    # Per placement: the last acknowledged state and the target states of requests sent after
    # it whose answer never came (in flight at a kill: they may or may not have landed). A
    # placement sees one request at a time, so an intent's answer is the next answer for it.
    acked = {}    # id -> state
    cards = {}    # id -> cards
    pending = {}  # id -> set of target states
    open_ops = {}  # id -> unanswered confirm/release intent
    open_holds = {}  # key -> unanswered hold intent
    for r in recs:
        if r["op"] == "hold":
            if r["ev"] == "intent":
                open_holds[r["key"]] = r
            else:
                open_holds.pop(r["key"], None)
        else:
            pid = r["id"]
            if r["ev"] == "intent":
                if pid in open_ops:
                    pending.setdefault(pid, set()).add(TARGET[open_ops[pid]["op"]])
                open_ops[pid] = r
            else:
                open_ops.pop(pid, None)
        if r["ev"] == "ack":
            acked[r["id"]] = r["state"]
            pending.pop(r["id"], None)
            if r["op"] == "hold":
                cards[r["id"]] = r["cards"]
        if r["ev"] == "error":
            fails.append("an unexpected answer during the load: %s" % json.dumps(r))
    for pid, v in open_ops.items():
        pending.setdefault(pid, set()).add(TARGET[v["op"]])
    lost_holds = list(open_holds.values())

    # Resolve lost hold answers by retrying with the same Idempotency-Key and body.
    resolved_landed = 0
    resolved_new = 0
    for v in lost_holds:
        status, doc = curl(url, "POST", "/v1/placements", tokens[v["round"]], body=v["body"],
                           key=v["key"])
        if status in (200, 201) and doc and doc.get("id"):
            pid = doc["id"]
            acked[pid] = doc["state"]
            cards[pid] = sum(p["cards"] for p in doc["pieces"])
            if status == 200:
                resolved_landed += 1
            else:
                resolved_new += 1
            with open(log_path, "a") as f:  # acknowledged from now on
                f.write(json.dumps({"ev": "ack", "op": "hold", "id": pid, "key": v["key"],
                                    "state": doc["state"], "cards": cards[pid],
                                    "round": v["round"], "t": time.time(),
                                    "retried": status}) + "\n")
        elif status == 409:
            with open(log_path, "a") as f:
                f.write(json.dumps({"ev": "nack", "op": "hold", "id": None, "key": v["key"],
                                    "round": v["round"], "t": time.time(),
                                    "retried": 409}) + "\n")
        else:
            fails.append("retrying lost hold %s: status %s body %s" % (v["key"], status, doc))
    info.append("lost hold answers: %d (landed before the kill: %d, not landed: %d); "
                "lost confirm/release answers: %d"
                % (len(lost_holds), resolved_landed, resolved_new, len(pending)))

    # Every placement of every round's tenant, as the daemon has them now (rounds may share a
    # tenant: each one is listed once).
    seen = {}
    first_round = {}
    for rnd, tok in sorted(tokens.items()):
        first_round.setdefault(tok, rnd)
    for tok, rnd in first_round.items():
        status, doc = curl(url, "GET", "/v1/placements?limit=1000", tok)
        if status != 200:
            fails.append("listing round %s placements: status %s" % (rnd, status))
            continue
        if len(doc["placements"]) >= 1000:
            fails.append("round %s has 1000+ placements: the list may be cut" % rnd)
        for p in doc["placements"]:
            seen[p["id"]] = p

    for pid, st in acked.items():
        p = seen.get(pid)
        if p is None:
            fails.append("acknowledged placement %s (%s) is missing" % (pid, st))
            continue
        allowed = {st} | pending.get(pid, set())
        if p["state"] not in allowed:
            fails.append("placement %s: acknowledged %s, in flight %s, found %s"
                         % (pid, st, sorted(pending.get(pid, [])), p["state"]))
        if sum(x["cards"] for x in p["pieces"]) != cards.get(pid):
            fails.append("placement %s: %s cards acknowledged, %s stored"
                         % (pid, cards.get(pid), sum(x["cards"] for x in p["pieces"])))
    for pid, p in seen.items():
        if pid not in acked:
            fails.append("placement %s (%s) was never acknowledged nor in flight"
                         % (pid, p["state"]))

    held = sum(sum(x["cards"] for x in p["pieces"]) for p in seen.values()
               if p["state"] == "held")
    confirmed = sum(sum(x["cards"] for x in p["pieces"]) for p in seen.values()
                    if p["state"] == "confirmed")
    status, c = curl(url, "GET", "/v1/centers/" + center, next(iter(tokens.values())))
    if status != 200:
        fails.append("GET center: status %s" % status)
    else:
        pool = c["pools"][0]
        info.append("pool: free=%s held=%s confirmed_unseen=%s available=%s; placements: "
                    "%d (%d held cards, %d confirmed cards)"
                    % (pool["free"], pool["held"], pool["confirmed_unseen"], pool["available"],
                       len(seen), held, confirmed))
        if pool["free"] != free:
            fails.append("free is %s, the feed said %s" % (pool["free"], free))
        if pool["held"] != held:
            fails.append("center held=%s but live held placements have %s cards"
                         % (pool["held"], held))
        if pool["confirmed_unseen"] != confirmed:
            fails.append("center confirmed_unseen=%s but confirmed placements have %s cards"
                         % (pool["confirmed_unseen"], confirmed))
        if pool["available"] != pool["free"] - pool["held"] - pool["confirmed_unseen"]:
            fails.append("available=%s != free - held - confirmed_unseen" % pool["available"])
        if pool["available"] < 0 or pool["held"] < 0 or pool["confirmed_unseen"] < 0:
            fails.append("a negative count: %s" % pool)
        if held + confirmed > free:
            fails.append("over-booked: %d held + %d confirmed > %d free"
                         % (held, confirmed, free))
    for line in info:
        print("INFO " + line)
    for line in fails:
        print("FAIL " + line)
        for pid in sorted(set(w for w in line.split() if w.startswith("pl_"))):
            for r in recs:
                if r.get("id") == pid:
                    print("  log: " + json.dumps(r, sort_keys=True))
    return 1 if fails else 0


def main(argv):
    def token_map(specs):
        tokens = {}
        for spec in specs:
            rnd, _, tok = spec.partition("=")
            tokens[int(rnd)] = tok
        return tokens

    if len(argv) >= 5 and argv[1] == "drive":
        return drive(argv[2], argv[3], int(argv[4]), token_map(argv[5:]))
    if len(argv) >= 6 and argv[1] == "check":
        return check(argv[2], argv[3], int(argv[4]), argv[5], token_map(argv[6:]))
    print(__doc__, file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
