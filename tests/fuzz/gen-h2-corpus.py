#!/usr/bin/env python3
"""Writes the seed inputs of the h2 fuzz target (corpus/h2/seed-*): what a client sends on a
connection, from the preface on. HPACK is encoded by hand (literals without indexing, plus a few
static-table references and one dynamic-table entry) so the seeds need no HTTP/2 library.

    python3 tests/fuzz/gen-h2-corpus.py tests/fuzz/corpus/h2
"""
import os
import struct
import sys

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, PRIORITY, RST_STREAM, SETTINGS, PUSH_PROMISE, PING, GOAWAY, WINDOW_UPDATE, \
    CONTINUATION = range(10)
END_STREAM, ACK, END_HEADERS, PADDED, PRIO = 0x1, 0x1, 0x4, 0x8, 0x20


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def hint(value, bits, first=0):
    limit = (1 << bits) - 1
    if value < limit:
        return bytes([first | value])
    out = [first | limit]
    value -= limit
    while value >= 128:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    return bytes(out + [value])


def lit(name, value):
    """Literal header field without indexing, new name."""
    name, value = name.encode(), value.encode()
    return b"\x00" + hint(len(name), 7) + name + hint(len(value), 7) + value


def lit_incremental(name, value):
    """Literal header field with incremental indexing (adds a dynamic-table entry)."""
    name, value = name.encode(), value.encode()
    return b"\x40" + hint(len(name), 7) + name + hint(len(value), 7) + value


def request(method, path, extra=()):
    return b"".join(lit(n, v) for n, v in
                    [(":method", method), (":scheme", "http"), (":path", path),
                     (":authority", "127.0.0.1")] + list(extra))


def settings(*pairs):
    return frame(SETTINGS, 0, 0, b"".join(struct.pack(">HI", k, v) for k, v in pairs))


START = PREFACE + settings((1, 4096), (2, 0), (4, 65535)) + frame(SETTINGS, ACK, 0)
JSON = [("content-type", "application/json")]


def seeds():
    yield "get", START + frame(HEADERS, END_STREAM | END_HEADERS, 1, request("GET", "/healthz"))
    # Indexed static entries: :method GET (2), :scheme http (6), :path / (4); then a
    # dynamic-table entry used by the second request.
    block = b"\x82\x86\x84" + lit_incremental(":authority", "broker") + lit("x-a", "1")
    block2 = b"\x82\x86\x84\xbe"
    yield "indexed", START + frame(HEADERS, END_STREAM | END_HEADERS, 1, block) + \
        frame(HEADERS, END_STREAM | END_HEADERS, 3, block2)
    body = b'{"precision":"bf16","cards":8,"hours":1,"origin":"cn-shanghai"}'
    yield "post", START + frame(HEADERS, END_HEADERS, 1, request(
        "POST", "/v1/placements", JSON + [("content-length", str(len(body))),
                                          ("authorization", "Bearer t"),
                                          ("idempotency-key", "k1")])) + \
        frame(DATA, 0, 1, body[:20]) + frame(DATA, END_STREAM, 1, body[20:])
    yield "post-padded", START + frame(HEADERS, END_HEADERS | PADDED | PRIO, 1, b"\x03" +
                                       struct.pack(">IB", 0, 15) +
                                       request("POST", "/echo", JSON) + b"\0\0\0") + \
        frame(DATA, END_STREAM | PADDED, 1, b"\x02{}\0\0")
    yield "too-large", START + frame(HEADERS, END_HEADERS, 1, request(
        "POST", "/echo", [("content-length", "5000")])) + frame(DATA, 0, 1, b"x" * 2500) + \
        frame(DATA, END_STREAM, 1, b"x" * 2500)
    yield "streamed-large", START + frame(HEADERS, END_HEADERS, 1, request("POST", "/echo")) + \
        b"".join(frame(DATA, 0, 1, b"y" * 1500) for _ in range(3)) + frame(DATA, END_STREAM, 1)
    big = request("GET", "/healthz", [("x-big", "b" * 3000)])
    yield "big-header", START + frame(HEADERS, END_STREAM, 1, big[:1000]) + \
        frame(CONTINUATION, 0, 1, big[1000:2000]) + frame(CONTINUATION, END_HEADERS, 1, big[2000:])
    for name, n in (("many-streams", 8), ("flood", 10)):  # the limit is 8
        yield name, START + b"".join(
            frame(HEADERS, END_STREAM | END_HEADERS, 2 * i + 1,
                  request("GET", "/empty" if i % 2 else "/big")) for i in range(n))
    yield "control", START + frame(PING, 0, 0, b"12345678") + \
        frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 100000)) + \
        frame(PRIORITY, 0, 3, struct.pack(">IB", 0, 1)) + \
        frame(HEADERS, END_HEADERS, 1, request("POST", "/echo")) + \
        frame(RST_STREAM, 0, 1, struct.pack(">I", 8)) + \
        frame(HEADERS, END_STREAM | END_HEADERS, 3, request("GET", "/x")) + \
        frame(GOAWAY, 0, 0, struct.pack(">II", 0, 0))
    yield "trailers", START + frame(HEADERS, END_HEADERS, 1, request("POST", "/echo", JSON)) + \
        frame(DATA, 0, 1, b"{}") + frame(HEADERS, END_STREAM | END_HEADERS, 1, lit("x-t", "1"))
    yield "http1", b"GET /healthz HTTP/1.1\r\nHost: broker\r\n\r\n"
    yield "no-path", START + frame(HEADERS, END_STREAM | END_HEADERS, 1,
                                   lit(":method", "GET") + lit(":scheme", "http"))


def main(argv):
    out = argv[1] if len(argv) > 1 else "corpus/h2"
    os.makedirs(out, exist_ok=True)
    for name, data in seeds():
        with open(os.path.join(out, "seed-" + name), "wb") as f:
            f.write(data)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
