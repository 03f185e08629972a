#!/usr/bin/env python3
"""A raw HTTP/2 client for the hostile-client tests (test-limits.sh, test-drain.sh).

Python's standard library has no HTTP/2, and curl/nghttp/h2load are well-behaved clients: they
respect SETTINGS_MAX_CONCURRENT_STREAMS and never trickle bytes. This speaks frames directly on a
socket. Requests are HPACK-encoded as literals without indexing (no Huffman); of responses only
:status is decoded (we announce SETTINGS_HEADER_TABLE_SIZE=0 so the server never indexes, and
nghttp2 puts :status first; Huffman-coded statuses are digits only). Each scenario prints one
JSON object for the shell test to check with jq; times are seconds since the scenario started.
With H2RAW_READY=FILE, idle and stall create FILE once the server's SETTINGS have arrived.

Scenarios (HOST PORT first):
  settings                       the server's SETTINGS
  flood N PATH [early]           N concurrent GETs in one write, ignoring the server's stream
                                 limit (early: sent with the preface, before its SETTINGS)
  conns N HOLD_S                 N connections kept alive with PINGs; how many the server keeps
  slowloris INTERVAL MAX_S PHASE one byte per INTERVAL until closed or MAX_S, of: the preface
                                 (PHASE preface), a never-ending HEADERS frame after a complete
                                 handshake (headers), or a POST body (body)
  bigheader SIZE                 a GET with one header of SIZE bytes (HEADERS + CONTINUATION)
  idle MAX_S                     a complete handshake, then silence: GOAWAY and close times
  stall PATH TOKEN MAX_S         a POST whose body never ends; GOAWAY and close times
"""
import json
import os
import select
import socket
import struct
import sys
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
SETTINGS_HEADER_TABLE_SIZE, SETTINGS_MAX_CONCURRENT_STREAMS = 1, 3
REFUSED_STREAM = 7
STATIC_STATUS = {8: "200", 9: "204", 10: "206", 11: "304", 12: "400", 13: "404", 14: "500"}
# RFC 7541 Appendix B, the digits only: (code, bit length) -> digit.
HUFF_DIGITS = {(0b00000, 5): "0", (0b00001, 5): "1", (0b00010, 5): "2", (0b011001, 6): "3",
               (0b011010, 6): "4", (0b011011, 6): "5", (0b011100, 6): "6", (0b011101, 6): "7",
               (0b011110, 6): "8", (0b011111, 6): "9"}


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream & 0x7FFFFFFF) + payload


def hpack_int(value, prefix_bits, first=0):
    limit = (1 << prefix_bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def hpack_literal(name, value):
    """A literal header field without indexing, new name, no Huffman."""
    name, value = name.encode(), value.encode()
    return b"\x00" + hpack_int(len(name), 7) + name + hpack_int(len(value), 7) + value


def request_block(method, path, authority, extra=()):
    block = b"".join(hpack_literal(n, v) for n, v in
                     [(":method", method), (":scheme", "http"), (":path", path),
                      (":authority", authority)] + list(extra))
    return block


def hpack_read_int(data, pos, prefix_bits):
    limit = (1 << prefix_bits) - 1
    value = data[pos] & limit
    pos += 1
    if value < limit:
        return value, pos
    shift = 0
    while True:
        b = data[pos]
        pos += 1
        value += (b & 0x7F) << shift
        shift += 7
        if not b & 0x80:
            return value, pos


def huffman_digits(raw):
    bits = "".join(format(b, "08b") for b in raw)
    out, i = "", 0
    while i < len(bits):
        for n in (5, 6):
            chunk = bits[i:i + n]
            if len(chunk) == n and (int(chunk, 2), n) in HUFF_DIGITS:
                out += HUFF_DIGITS[(int(chunk, 2), n)]
                i += n
                break
        else:
            if set(bits[i:]) <= {"1"} and len(bits) - i < 8:
                return out  # EOS padding
            return None  # not a digit string
    return out


def decode_status(block):
    """:status of a response header block, or None if this decoder cannot read it."""
    pos = 0
    while pos < len(block) and block[pos] & 0xE0 == 0x20:  # dynamic table size update
        _, pos = hpack_read_int(block, pos, 5)
    if pos >= len(block):
        return None
    b = block[pos]
    if b & 0x80:
        idx, _ = hpack_read_int(block, pos, 7)
        return STATIC_STATUS.get(idx)
    prefix = 6 if b & 0x40 else 4
    idx, pos = hpack_read_int(block, pos, prefix)
    if idx != 8:
        return None
    huff = bool(block[pos] & 0x80)
    n, pos = hpack_read_int(block, pos, 7)
    raw = block[pos:pos + n]
    return huffman_digits(raw) if huff else raw.decode("ascii", "replace")


class Conn:
    def __init__(self, host, port, timeout=5.0):
        self.sock = socket.create_connection((host, port), timeout=timeout)
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self.buf = b""
        self.closed = False
        self.close_reason = None
        self.authority = "%s:%d" % (host, port)
        self.auto_ack = True  # answer SETTINGS and PING (off while dripping a preface)

    def send(self, data):
        try:
            self.sock.sendall(data)
            return True
        except OSError as e:
            self.closed = True
            self.close_reason = self.close_reason or type(e).__name__
            return False

    def handshake(self):
        settings = struct.pack(">HI", SETTINGS_HEADER_TABLE_SIZE, 0)
        return self.send(PREFACE + frame(SETTINGS, 0, 0, settings))

    def read_frames(self, wait):
        """Frames that arrive within wait seconds (returns early once something arrived)."""
        frames = []
        if not self.closed:
            r, _, _ = select.select([self.sock], [], [], max(wait, 0))
            if r:
                try:
                    chunk = self.sock.recv(65536)
                except OSError as e:
                    chunk = b""
                    self.close_reason = type(e).__name__
                if not chunk:
                    self.closed = True
                    self.close_reason = self.close_reason or "EOF"
                self.buf += chunk
        while len(self.buf) >= 9:
            length = struct.unpack(">I", b"\0" + self.buf[:3])[0]
            if len(self.buf) < 9 + length:
                break
            ftype, flags = self.buf[3], self.buf[4]
            stream = struct.unpack(">I", self.buf[5:9])[0] & 0x7FFFFFFF
            payload = self.buf[9:9 + length]
            self.buf = self.buf[9 + length:]
            frames.append((ftype, flags, stream, payload))
            if ftype == SETTINGS and not flags & ACK and self.auto_ack:
                self.send(frame(SETTINGS, ACK, 0))
            if ftype == PING and not flags & ACK and self.auto_ack:
                self.send(frame(PING, ACK, 0, payload))
        return frames


def signal_ready():
    """Creates the file named by $H2RAW_READY: the connection is up and has the server's
    SETTINGS, so a test may act (e.g. send SIGTERM) knowing it is established."""
    path = os.environ.get("H2RAW_READY")
    if path:
        open(path, "w").close()


def settings_of(frames):
    out = {}
    for ftype, flags, _, payload in frames:
        if ftype == SETTINGS and not flags & ACK:
            for i in range(0, len(payload), 6):
                ident, value = struct.unpack(">HI", payload[i:i + 6])
                out[ident] = value
    return out


def goaway_of(payload):
    last, code = struct.unpack(">II", payload[:8])
    return {"last_stream_id": last & 0x7FFFFFFF, "error_code": code}


def scenario_settings(host, port):
    c = Conn(host, port)
    c.handshake()
    frames, t0 = [], time.monotonic()
    while time.monotonic() - t0 < 3 and not settings_of(frames):
        frames += c.read_frames(0.2)
    s = settings_of(frames)
    return {"max_concurrent_streams": s.get(SETTINGS_MAX_CONCURRENT_STREAMS),
            "settings": {str(k): v for k, v in s.items()}}


def scenario_flood(host, port, n, path, early):
    """early: the burst goes with the preface, before the server's SETTINGS are known (as
    h2load and nghttp do); else once both sides have acknowledged each other's SETTINGS."""
    c = Conn(host, port)
    block = request_block("GET", path, c.authority)
    burst = b"".join(frame(HEADERS, END_STREAM | END_HEADERS, 2 * i + 1, block) for i in range(n))
    frames, t0 = [], time.monotonic()
    if early:
        c.handshake()
        c.send(burst)
    else:
        c.handshake()
        while time.monotonic() - t0 < 3 and not (
                settings_of(frames) and
                any(f[0] == SETTINGS and f[1] & ACK for f in frames)):
            frames += c.read_frames(0.2)
        c.send(burst)
    statuses, refused, rst_other, goaway, ended = {}, [], [], None, set()
    t1 = time.monotonic()
    while time.monotonic() - t1 < 5 and not c.closed:
        got = c.read_frames(0.3)
        frames += got
        for ftype, flags, stream, payload in got:
            if ftype == HEADERS:
                statuses[stream] = decode_status(payload)
                if flags & END_STREAM:
                    ended.add(stream)
            elif ftype == DATA and flags & END_STREAM:
                ended.add(stream)
            elif ftype == RST_STREAM:
                code = struct.unpack(">I", payload[:4])[0]
                (refused if code == REFUSED_STREAM else rst_other).append([stream, code])
                ended.add(stream)
            elif ftype == GOAWAY:
                goaway = goaway_of(payload)
        if goaway is not None or len(ended) >= n:
            break
    advertised = settings_of(frames).get(SETTINGS_MAX_CONCURRENT_STREAMS)
    hist = {}
    for s in statuses.values():
        hist[str(s)] = hist.get(str(s), 0) + 1
    return {"advertised_max_streams": advertised, "sent": n, "responses": len(statuses),
            "statuses": hist, "complete": len([s for s in ended if s in statuses]),
            "refused": len(refused), "rst_other": rst_other, "goaway": goaway}


def scenario_conns(host, port, n, hold):
    t0 = time.monotonic()
    conns = []
    for _ in range(n):
        try:
            c = Conn(host, port, timeout=3)
            c.opened = time.monotonic() - t0
            c.handshake()
            c.got_settings = False
            c.closed_at = None
        except OSError as e:
            c = None
        conns.append(c)
    last_ping = 0.0
    while time.monotonic() - t0 < hold:
        now = time.monotonic() - t0
        live = [c for c in conns if c is not None and not c.closed]
        if not live:
            break
        r, _, _ = select.select([c.sock for c in live], [], [], 0.1)
        for c in live:
            if c.sock in r:
                for ftype, flags, _, _ in c.read_frames(0):
                    if ftype == SETTINGS and not flags & ACK:
                        c.got_settings = True
                if c.closed:
                    c.closed_at = time.monotonic() - t0
        if now - last_ping > 0.3:  # keep the idle timer away from the ones we keep
            last_ping = now
            for c in live:
                if not c.closed:
                    c.send(frame(PING, 0, 0, b"keepaliv"))
                    if c.closed:
                        c.closed_at = time.monotonic() - t0
    still = [c for c in conns if c is not None and not c.closed]
    gone = [c for c in conns if c is not None and c.closed]
    return {"attempted": n, "connect_failed": conns.count(None), "open": len(still),
            "open_with_settings": len([c for c in still if c.got_settings]),
            "closed": len(gone),
            "closed_after_max": max([c.closed_at - c.opened for c in gone], default=None),
            "closed_with_settings": len([c for c in gone if c.got_settings]),
            "close_reasons": sorted(set(c.close_reason for c in gone))}


def scenario_slowloris(host, port, interval, max_s, phase):
    """phase: "preface" drips the preface; "headers" completes the handshake and drips a
    HEADERS frame whose block never ends; "body" sends a POST's HEADERS and drips its body."""
    t0 = time.monotonic()
    c = Conn(host, port)
    if phase == "preface":
        c.auto_ack = False  # our bytes must not interleave with the dripped preface
        drip = PREFACE + frame(SETTINGS, 0, 0)
    else:
        c.handshake()
        frames = []
        while time.monotonic() - t0 < 3 and not any(f[0] == SETTINGS and f[1] & ACK
                                                    for f in frames):
            frames += c.read_frames(0.2)
        if phase == "headers":
            block = request_block("POST", "/v1/placements", c.authority,
                                  [("x-slow", "a" * 4000)])
            drip = frame(HEADERS, 0, 1, block[:2000])  # no END_HEADERS
        else:
            block = request_block("POST", "/v1/placements", c.authority,
                                  [("content-type", "application/json"),
                                   ("content-length", "4000")])
            c.send(frame(HEADERS, END_HEADERS, 1, block))
            drip = b"".join(frame(DATA, 0, 1, b" ") for _ in range(400))
    sent = 0
    goaways, rst, status = [], [], None
    while time.monotonic() - t0 < max_s and not c.closed:
        if sent < len(drip):
            c.send(drip[sent:sent + 1])
            sent += 1
        deadline = time.monotonic() + interval
        while time.monotonic() < deadline and not c.closed:
            for ftype, _, _, payload in c.read_frames(deadline - time.monotonic()):
                if ftype == GOAWAY:
                    g = goaway_of(payload)
                    g["at"] = time.monotonic() - t0
                    goaways.append(g)
                elif ftype == RST_STREAM:
                    rst.append(struct.unpack(">I", payload[:4])[0])
                elif ftype == HEADERS:
                    status = decode_status(payload)
    closed_after = time.monotonic() - t0 if c.closed else None
    return {"closed_after": closed_after, "bytes_dripped": sent, "reason": c.close_reason,
            "goaways": goaways, "rst": rst, "status": status}


def scenario_bigheader(host, port, size):
    """One GET with a header of size bytes, in HEADERS + CONTINUATION frames of 16 KiB."""
    t0 = time.monotonic()
    c = Conn(host, port)
    c.handshake()
    frames = []
    while time.monotonic() - t0 < 3 and not any(f[0] == SETTINGS and f[1] & ACK for f in frames):
        frames += c.read_frames(0.2)
    block = request_block("GET", "/healthz", c.authority, [("x-big", "a" * size)])
    chunks = [block[i:i + 16384] for i in range(0, len(block), 16384)]
    out = b""
    for i, chunk in enumerate(chunks):
        flags = END_HEADERS if i == len(chunks) - 1 else 0
        if i == 0:
            out += frame(HEADERS, flags | END_STREAM, 1, chunk)
        else:
            out += frame(CONTINUATION, flags, 1, chunk)
    c.send(out)
    goaways, rst, status = [], [], None
    while time.monotonic() - t0 < 5 and not c.closed and status is None and not goaways:
        for ftype, _, _, payload in c.read_frames(0.2):
            if ftype == GOAWAY:
                goaways.append(goaway_of(payload))
            elif ftype == RST_STREAM:
                rst.append(struct.unpack(">I", payload[:4])[0])
            elif ftype == HEADERS:
                status = decode_status(payload)
    return {"status": status, "goaways": goaways, "rst": rst, "closed": c.closed}


def scenario_idle(host, port, max_s):
    t0 = time.monotonic()
    c = Conn(host, port)
    c.handshake()
    goaways = []
    ready = False
    while time.monotonic() - t0 < max_s and not c.closed:
        for ftype, flags, _, payload in c.read_frames(0.2):
            if ftype == SETTINGS and not ready:
                ready = True
                signal_ready()
            if ftype == GOAWAY:
                g = goaway_of(payload)
                g["at"] = time.monotonic() - t0
                goaways.append(g)
    return {"goaways": goaways,
            "closed_after": time.monotonic() - t0 if c.closed else None,
            "reason": c.close_reason}


def scenario_stall(host, port, path, token, max_s):
    t0 = time.monotonic()
    c = Conn(host, port)
    c.handshake()
    block = request_block("POST", path, c.authority,
                          [("authorization", "Bearer " + token),
                           ("content-type", "application/json"), ("content-length", "100")])
    c.send(frame(HEADERS, END_HEADERS, 1, block) + frame(DATA, 0, 1, b'{"precision":'))
    goaways, rst, status = [], [], None
    ready = False
    while time.monotonic() - t0 < max_s and not c.closed:
        for ftype, _, _, payload in c.read_frames(0.2):
            if ftype == SETTINGS and not ready:
                ready = True
                signal_ready()
            if ftype == GOAWAY:
                g = goaway_of(payload)
                g["at"] = time.monotonic() - t0
                goaways.append(g)
            elif ftype == RST_STREAM:
                rst.append(struct.unpack(">I", payload[:4])[0])
            elif ftype == HEADERS:
                status = decode_status(payload)
    return {"goaways": goaways, "rst": rst, "status": status,
            "closed_after": time.monotonic() - t0 if c.closed else None,
            "reason": c.close_reason}


def main(argv):
    if len(argv) < 4:
        print(__doc__, file=sys.stderr)
        return 2
    host, port, what, args = argv[1], int(argv[2]), argv[3], argv[4:]
    if what == "settings":
        out = scenario_settings(host, port)
    elif what == "flood":
        out = scenario_flood(host, port, int(args[0]), args[1],
                             len(args) > 2 and args[2] == "early")
    elif what == "conns":
        out = scenario_conns(host, port, int(args[0]), float(args[1]))
    elif what == "slowloris":
        out = scenario_slowloris(host, port, float(args[0]), float(args[1]),
                                 args[2] if len(args) > 2 else "preface")
    elif what == "bigheader":
        out = scenario_bigheader(host, port, int(args[0]))
    elif what == "idle":
        out = scenario_idle(host, port, float(args[0]))
    elif what == "stall":
        out = scenario_stall(host, port, args[0], args[1], float(args[2]))
    else:
        print(__doc__, file=sys.stderr)
        return 2
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
