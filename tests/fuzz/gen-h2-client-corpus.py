#!/usr/bin/env python3
"""Writes the seed inputs of the h2-client fuzz target (corpus/h2-client/seed-*): what a server
sends on a connection to brokerd's feed client, which has requests on streams 1, 3 and 5 (the
one on 3 capped at 100 bytes). HPACK by hand: static-table references and literals without
indexing, so the seeds need no HTTP/2 library.

    python3 tests/fuzz/gen-h2-client-corpus.py tests/fuzz/corpus/h2-client
"""
import os
import struct
import sys

DATA, HEADERS, RST_STREAM, SETTINGS, GOAWAY, WINDOW_UPDATE = 0, 1, 3, 4, 7, 8
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4
STATUS_200, STATUS_304, STATUS_500 = b"\x88", b"\x8b", b"\x8e"


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def literal(index, value):
    """A literal header field without indexing, its name from the static table."""
    assert index >= 15 and len(value) < 127
    return bytes([0x0F, index - 15, len(value)]) + value


def answer(stream, body, status=STATUS_200, extra=b""):
    out = frame(HEADERS, END_HEADERS | (0 if body else END_STREAM), stream, status + extra)
    if body:
        out += frame(DATA, END_STREAM, stream, body)
    return out


SETTINGS_EMPTY = frame(SETTINGS, 0, 0)
SEEDS = {
    "all-answered": SETTINGS_EMPTY + frame(SETTINGS, ACK, 0) + answer(1, b'{"pools":[]}') +
    answer(3, b"short") + answer(5, b"x" * 300),
    "over-cap": SETTINGS_EMPTY + answer(3, b"y" * 200) + answer(1, b"ok") + answer(5, b"ok"),
    "goaway": SETTINGS_EMPTY + answer(1, b"ok") + frame(GOAWAY, 0, 0, struct.pack(">II", 1, 0)),
    "resets": SETTINGS_EMPTY + frame(RST_STREAM, 0, 1, struct.pack(">I", 7)) +
    frame(RST_STREAM, 0, 3, struct.pack(">I", 2)) + answer(5, b"", STATUS_500),
    "not-modified": SETTINGS_EMPTY + answer(5, b"", STATUS_304, literal(34, b'"v1"')) +
    answer(1, b"ok", STATUS_200, literal(44, b"Sun, 22 Nov 2026 10:00:00 GMT")),
    "gzip": SETTINGS_EMPTY + answer(1, b"\x1f\x8b", STATUS_200, literal(26, b"gzip")),
    "http1": b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n",
    "window": SETTINGS_EMPTY + frame(WINDOW_UPDATE, 0, 0, struct.pack(">I", 1 << 20)) +
    answer(1, b"z" * 5000),
    "empty": b"",
}

out_dir = sys.argv[1]
os.makedirs(out_dir, exist_ok=True)
for name, data in SEEDS.items():
    with open(os.path.join(out_dir, "seed-" + name), "wb") as f:
        f.write(data)
