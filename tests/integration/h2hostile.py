#!/usr/bin/env python3
"""Hostile HTTP/2 peers for test-hostile-peers.sh, on top of h2raw.py's frame helpers.

Each scenario prints one JSON object for the shell test to check with jq; times are seconds
since the scenario started.

Scenarios (HOST PORT first):
  noread PATH BATCHES MAX_S  opens the flow-control windows wide, sends BATCHES x 8 GETs of PATH
                             as fast as they are taken, then nothing, and never reads a byte (a
                             small receive buffer): when the server cuts it off
  window0 PATH MAX_S         reads everything but announces SETTINGS_INITIAL_WINDOW_SIZE 0 and
                             never sends WINDOW_UPDATE: as many streams as allowed, whose bodies
                             can never be sent, kept company by PINGs
  tiny N PATH                N GETs on one connection, at most the advertised stream limit
                             outstanding at once: how many were answered, and how fast
  burst N PATH               N GETs in one write with the preface, before the server's SETTINGS
  rapidreset N PATH          N times HEADERS (END_STREAM) then RST_STREAM(CANCEL) at once
  hpackbomb SIZE REFS        one request whose header block adds a SIZE-byte entry to the HPACK
                             dynamic table, then references it REFS times (1 byte each), in
                             HEADERS + CONTINUATION: the decoded list is REFS x SIZE bytes
  contflood MAX_S            a header block that never ends: CONTINUATION frames of dynamic-table
                             references, as fast as the server takes them, until it cuts us off
"""
import errno
import json
import os
import select
import socket
import struct
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import h2raw  # noqa: E402
from h2raw import (ACK, CONTINUATION, DATA, END_HEADERS, END_STREAM, GOAWAY, HEADERS,  # noqa: E402
                   PING, RST_STREAM, SETTINGS, SETTINGS_MAX_CONCURRENT_STREAMS, WINDOW_UPDATE,
                   Conn, frame, goaway_of, hpack_int, request_block, settings_of)

SETTINGS_INITIAL_WINDOW_SIZE = 4
CANCEL = 8
MAX_WINDOW = 2**31 - 1


def wait_settings_ack(c, t0, limit=3):
    frames = []
    while time.monotonic() - t0 < limit and not c.closed and not any(
            f[0] == SETTINGS and f[1] & ACK for f in frames):
        frames += c.read_frames(0.2)
    return frames


def connect_small_rcvbuf(host, port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)  # before connect: a small window
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.connect((host, port))
    s.setblocking(False)
    return s


def so_error(s):
    return s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)


TCP_STATES = {"01": "ESTABLISHED", "04": "FIN_WAIT1", "05": "FIN_WAIT2", "06": "TIME_WAIT",
              "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0B": "CLOSING"}


def server_side_state(s, server_port):
    """The TCP state of the server's end of our connection, from /proc/net/tcp (Linux, same
    host): "ESTABLISHED" until the server closes it; None once the kernel has forgotten it. A
    client that does not read cannot see the server's FIN itself: its window is shut."""
    client_port = s.getsockname()[1]
    try:
        with open("/proc/net/tcp") as f:
            for line in f.readlines()[1:]:
                fields = line.split()
                local, remote, state = fields[1], fields[2], fields[3]
                if int(local.split(":")[1], 16) == server_port and \
                        int(remote.split(":")[1], 16) == client_port:
                    return TCP_STATES.get(state, state)
    except OSError:
        return "unknown"
    return None


def scenario_noread(host, port, path, batches, max_s):
    """batches of 8 GETs, sent as fast as the socket takes them, then nothing: no read, no
    write. closed_at counts from the moment the last batch was taken."""
    t0 = time.monotonic()
    s = connect_small_rcvbuf(host, port)
    authority = "%s:%d" % (host, port)
    # Wide windows, so that only TCP (our not reading) holds the server back.
    pending = h2raw.PREFACE + frame(SETTINGS, 0, 0, struct.pack(
        ">HIHI", h2raw.SETTINGS_HEADER_TABLE_SIZE, 0, SETTINGS_INITIAL_WINDOW_SIZE, MAX_WINDOW))
    pending += frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", MAX_WINDOW - 65535))
    block = request_block("GET", path, authority)
    stream = 1
    sent = 0
    queued = 0
    sent_all_at = None  # when the last batch was taken by the socket
    closed_at = None
    close_reason = None
    while time.monotonic() - t0 < max_s and closed_at is None:
        now = time.monotonic() - t0
        if not pending and queued < batches:
            pending = b"".join(frame(HEADERS, END_STREAM | END_HEADERS, stream + 2 * i, block)
                               for i in range(8))
            stream += 16
            queued += 1
        if pending:
            try:
                n = s.send(pending)
                pending = pending[n:]
                sent += n
                if not pending and queued == batches:
                    sent_all_at = now
            except BlockingIOError:
                pass
            except OSError as e:
                closed_at, close_reason = now, errno.errorcode.get(e.errno, str(e.errno))
        err = so_error(s)
        if err and closed_at is None:
            closed_at, close_reason = now, errno.errorcode.get(err, str(err))
        state = server_side_state(s, port)
        if state != "ESTABLISHED" and closed_at is None:
            closed_at, close_reason = now, "server side %s" % state
        time.sleep(0.01)
    # Now read what is there: an EOF or a reset says the server has closed.
    received = 0
    if closed_at is None:
        s.setblocking(True)
        s.settimeout(2)
        try:
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    close_reason = "EOF after draining"
                    break
                received += len(chunk)
        except socket.timeout:
            close_reason = "still open"
        except OSError as e:
            close_reason = errno.errorcode.get(e.errno, str(e.errno)) + " after draining"
    s.close()
    return {"bytes_sent": sent, "requests_sent": 8 * queued if sent_all_at is not None else None,
            "sent_all_at": sent_all_at, "closed_at": closed_at, "reason": close_reason,
            "received_at_end": received}


def scenario_window0(host, port, path, max_s):
    t0 = time.monotonic()
    c = Conn(host, port)
    c.send(h2raw.PREFACE + frame(SETTINGS, 0, 0, struct.pack(
        ">HIHI", h2raw.SETTINGS_HEADER_TABLE_SIZE, 0, SETTINGS_INITIAL_WINDOW_SIZE, 0)))
    frames = wait_settings_ack(c, t0)
    limit = settings_of(frames).get(SETTINGS_MAX_CONCURRENT_STREAMS, 8)
    block = request_block("GET", path, c.authority)
    c.send(b"".join(frame(HEADERS, END_STREAM | END_HEADERS, 2 * i + 1, block)
                    for i in range(limit)))
    headers, data_bytes, rst, goaways = 0, 0, [], []
    last_ping = 0.0
    while time.monotonic() - t0 < max_s and not c.closed:
        now = time.monotonic() - t0
        if now - last_ping > 0.2:  # PINGs must not keep a stuck connection alive
            last_ping = now
            c.send(frame(PING, 0, 0, b"stillhere"[:8]))
        for ftype, flags, stream, payload in c.read_frames(0.1):
            if ftype == HEADERS:
                headers += 1
            elif ftype == DATA:
                data_bytes += len(payload)
            elif ftype == RST_STREAM:
                code = struct.unpack(">I", payload[:4])[0]
                rst.append([stream, code])
            elif ftype == GOAWAY:
                g = goaway_of(payload)
                g["at"] = time.monotonic() - t0
                goaways.append(g)
    return {"limit": limit, "headers": headers, "data_bytes": data_bytes, "rst": rst[:20],
            "goaways": goaways,
            "closed_after": time.monotonic() - t0 if c.closed else None,
            "reason": c.close_reason}


def scenario_tiny(host, port, n, path):
    t0 = time.monotonic()
    c = Conn(host, port, timeout=10)
    c.handshake()
    # 10,000 response bodies outgrow the connection's initial 64 KiB window: open it wide.
    c.send(frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", MAX_WINDOW - 65535)))
    frames = wait_settings_ack(c, t0)
    limit = settings_of(frames).get(SETTINGS_MAX_CONCURRENT_STREAMS, 8)
    block = request_block("GET", path, c.authority)
    next_id, started, outstanding = 1, 0, set()
    statuses, rst, goaway = {}, 0, None
    answered = 0
    last_progress = time.monotonic()
    while answered + rst < n and not c.closed and goaway is None:
        batch = b""
        while len(outstanding) < limit and started < n:
            batch += frame(HEADERS, END_STREAM | END_HEADERS, next_id, block)
            outstanding.add(next_id)
            next_id += 2
            started += 1
        if batch:
            c.send(batch)
        if time.monotonic() - last_progress > 5:
            break  # stuck
        for ftype, flags, stream, payload in c.read_frames(0.5):
            if ftype == HEADERS:
                st = h2raw.decode_status(payload)
                statuses[str(st)] = statuses.get(str(st), 0) + 1
                if flags & END_STREAM:
                    outstanding.discard(stream)
                    answered += 1
                    last_progress = time.monotonic()
            elif ftype == DATA and flags & END_STREAM:
                outstanding.discard(stream)
                answered += 1
                last_progress = time.monotonic()
            elif ftype == RST_STREAM:
                outstanding.discard(stream)
                rst += 1
            elif ftype == GOAWAY:
                goaway = goaway_of(payload)
    elapsed = time.monotonic() - t0
    return {"limit": limit, "sent": started, "answered": answered, "statuses": statuses,
            "rst": rst, "goaway": goaway, "elapsed": elapsed, "last_stream_id": next_id - 2,
            "closed": c.closed, "reason": c.close_reason}


def scenario_rapidreset(host, port, n, path):
    t0 = time.monotonic()
    c = Conn(host, port, timeout=10)
    c.handshake()
    wait_settings_ack(c, t0)
    block = request_block("GET", path, c.authority)
    rst_frame = struct.pack(">I", CANCEL)
    out = b"".join(frame(HEADERS, END_STREAM | END_HEADERS, 2 * i + 1, block) +
                   frame(RST_STREAM, 0, 2 * i + 1, rst_frame) for i in range(n))
    c.sock.settimeout(30)
    c.send(out)
    responses, goaway = 0, None
    # Then one honest request: is the connection still served?
    t1 = time.monotonic()
    final_id = 2 * n + 1
    c.send(frame(HEADERS, END_STREAM | END_HEADERS, final_id, block))
    final_status = None
    while time.monotonic() - t1 < 10 and not c.closed and goaway is None and final_status is None:
        for ftype, flags, stream, payload in c.read_frames(0.3):
            if ftype == HEADERS:
                if stream == final_id:
                    final_status = h2raw.decode_status(payload)
                else:
                    responses += 1
            elif ftype == GOAWAY:
                goaway = goaway_of(payload)
    return {"sent": n, "responses_to_reset_streams": responses, "final_status": final_status,
            "goaway": goaway, "elapsed": time.monotonic() - t0, "closed": c.closed}


def bomb_block(size):
    """A header-block fragment that adds x-bomb: SIZE bytes to the dynamic table (and so to the
    list), then the index of that entry (62, the first dynamic one) is one byte: 0xbe."""
    name, value = b"x-bomb", b"b" * size
    return b"\x40" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def scenario_hpackbomb(host, port, size, refs):
    t0 = time.monotonic()
    c = Conn(host, port, timeout=10)
    c.handshake()
    wait_settings_ack(c, t0)
    first = request_block("GET", "/healthz", c.authority) + bomb_block(size)
    out = frame(HEADERS, END_STREAM, 1, first)
    left = refs
    while left > 0:
        n = min(left, 16384)
        left -= n
        out += frame(CONTINUATION, END_HEADERS if left == 0 else 0, 1, b"\xbe" * n)
    c.sock.settimeout(30)
    c.send(out)
    t1 = time.monotonic()
    status, rst, goaways = None, [], []
    while time.monotonic() - t1 < 10 and not c.closed and status is None and not goaways:
        for ftype, _, _, payload in c.read_frames(0.2):
            if ftype == HEADERS:
                status = h2raw.decode_status(payload)
            elif ftype == RST_STREAM:
                rst.append(struct.unpack(">I", payload[:4])[0])
            elif ftype == GOAWAY:
                goaways.append(goaway_of(payload))
        if rst:
            break
    return {"wire_bytes": len(out), "decoded_bytes": refs * (size + 6), "status": status,
            "rst": rst, "goaways": goaways, "answered_after": time.monotonic() - t1,
            "closed": c.closed}


def scenario_contflood(host, port, max_s):
    t0 = time.monotonic()
    c = Conn(host, port, timeout=10)
    c.handshake()
    wait_settings_ack(c, t0)
    c.sock.settimeout(1)
    c.send(frame(HEADERS, END_STREAM, 1,
                 request_block("GET", "/healthz", c.authority) + bomb_block(4000)))
    cont = frame(CONTINUATION, 0, 1, b"\xbe" * 16384)
    sent = 0
    goaways, status = [], None
    while time.monotonic() - t0 < max_s and not c.closed:
        try:
            c.sock.sendall(cont)
            sent += len(cont)
        except socket.timeout:
            pass
        except OSError as e:
            c.closed = True
            c.close_reason = type(e).__name__
            break
        r, _, _ = select.select([c.sock], [], [], 0)
        if r:
            for ftype, _, _, payload in c.read_frames(0):
                if ftype == GOAWAY:
                    g = goaway_of(payload)
                    g["at"] = time.monotonic() - t0
                    goaways.append(g)
                elif ftype == HEADERS:
                    status = h2raw.decode_status(payload)
    return {"bytes_sent": sent, "goaways": goaways, "status": status,
            "closed_after": time.monotonic() - t0 if c.closed else None,
            "reason": c.close_reason}


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, what, args = argv[1], int(argv[2]), argv[3], argv[4:]
    if what == "noread":
        out = scenario_noread(host, port, args[0], int(args[1]), float(args[2]))
    elif what == "window0":
        out = scenario_window0(host, port, args[0], float(args[1]))
    elif what == "tiny":
        out = scenario_tiny(host, port, int(args[0]), args[1])
    elif what == "burst":
        out = h2raw.scenario_flood(host, port, int(args[0]), args[1], True)
    elif what == "rapidreset":
        out = scenario_rapidreset(host, port, int(args[0]), args[1])
    elif what == "hpackbomb":
        out = scenario_hpackbomb(host, port, int(args[0]), int(args[1]))
    elif what == "contflood":
        out = scenario_contflood(host, port, float(args[0]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
