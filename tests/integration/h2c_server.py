#!/usr/bin/env python3
"""A misbehaving HTTP/2 cleartext server for test-fetch.sh: the cases nghttpd will not play.

Python's standard library has no HTTP/2, so this speaks frames on a socket. It never decodes
the request's header block (the client Huffman-codes it); it only reacts to HEADERS frames.
Prints "port N" on stdout once listening, and "conn N" on stderr for every connection accepted.

Modes:
  goaway   answers the first request of each connection (200, body "ok"), then sends GOAWAY
           naming that stream as the last it processed, and closes the connection soon after:
           every later request on that connection was refused unseen.
  close    reads the first HEADERS frame, then closes the connection without a word.
  silent   accepts and never sends a byte.
  limit1   allows one stream at a time (SETTINGS_MAX_CONCURRENT_STREAMS 1), never answers, and
           sends a PING every 0.2 s: requests wait inside the client's HTTP/2 session, unsent.
"""
import socket
import struct
import sys
import threading
import time

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
DATA, HEADERS, SETTINGS, PING, GOAWAY = 0, 1, 4, 6, 7
SETTINGS_MAX_CONCURRENT_STREAMS = 3
END_STREAM, ACK, END_HEADERS = 0x1, 0x1, 0x4


def frame(ftype, flags, stream, payload=b""):
    return struct.pack(">I", len(payload))[1:] + bytes([ftype, flags]) + \
        struct.pack(">I", stream) + payload


def read_exact(sock, n):
    data = b""
    while len(data) < n:
        chunk = sock.recv(n - len(data))
        if not chunk:
            raise EOFError
        data += chunk
    return data


def read_frame(sock):
    head = read_exact(sock, 9)
    length = int.from_bytes(head[:3], "big")
    ftype, flags = head[3], head[4]
    stream = struct.unpack(">I", head[5:9])[0] & 0x7FFFFFFF
    return ftype, flags, stream, read_exact(sock, length)


def serve(sock, mode):
    try:
        if mode == "silent":
            time.sleep(30)
            return
        read_exact(sock, len(PREFACE))
        if mode == "limit1":
            sock.sendall(frame(SETTINGS, 0, 0, struct.pack(">HI", SETTINGS_MAX_CONCURRENT_STREAMS, 1)))

            def pinger():
                try:
                    while True:
                        time.sleep(0.2)
                        sock.sendall(frame(PING, 0, 0, b"12345678"))
                except OSError:
                    pass
            threading.Thread(target=pinger, daemon=True).start()
        else:
            sock.sendall(frame(SETTINGS, 0, 0))
        answered = False
        while True:
            ftype, flags, stream, _ = read_frame(sock)
            if ftype == SETTINGS and not flags & ACK:
                sock.sendall(frame(SETTINGS, ACK, 0))
            if ftype != HEADERS or mode == "limit1":
                continue
            if mode == "close":
                return
            if not answered:
                answered = True
                # 0x88: the static table's ":status: 200".
                sock.sendall(frame(HEADERS, END_HEADERS, stream, b"\x88") +
                             frame(DATA, END_STREAM, stream, b"ok") +
                             frame(GOAWAY, 0, 0, struct.pack(">II", stream, 0)))
                threading.Timer(0.2, lambda: sock.shutdown(socket.SHUT_RDWR)).start()
    except (EOFError, OSError):
        pass
    finally:
        time.sleep(0.3)
        sock.close()


def main():
    mode = sys.argv[1]
    srv = socket.socket()
    srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    srv.bind(("127.0.0.1", 0))
    srv.listen(64)
    print("port %d" % srv.getsockname()[1], flush=True)
    n = 0
    while True:
        sock, _ = srv.accept()
        n += 1
        print("conn %d" % n, file=sys.stderr, flush=True)
        threading.Thread(target=serve, args=(sock, mode), daemon=True).start()


if __name__ == "__main__":
    main()
