#!/usr/bin/env python3
"""A feed server for tests: every path /seq/<mode>/<name> answers a good native
feed document the first time and then misbehaves in the way <mode> names, so a
test can check that the broker keeps the last good snapshot, records the error
and lets no other center suffer. /good/<name> always answers well.

Usage: hostile_feed_server.py PORT_FILE   (binds 127.0.0.1:0, writes the port)
"""
import http.server
import json
import socketserver
import sys
import threading
import time

COUNTS = {}
LOCK = threading.Lock()


def good_doc(name):
    return json.dumps({"pools": [{"model": "H800", "total": 64, "free": 40,
                                  "largest_block": 8, "price_per_card_hour": 20.0}]}).encode()


BAD_BODIES = {
    "syntax": b'{"pools": [ {"model": "H800", ',
    "types": b'{"pools":[{"model":"H800","total":"many","free":1,"price_per_card_hour":1}]}',
    "negative": b'{"pools":[{"model":"H800","total":64,"free":-5,"price_per_card_hour":1}]}',
    "absurd": b'{"pools":[{"model":"H800","total":1e300,"free":1,"price_per_card_hour":1}]}',
    "html": b"<html><body><h1>502 Bad Gateway</h1></body></html>",
    "empty": b"",
}


class Handler(http.server.BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, fmt, *args):  # quiet
        pass

    def send_body(self, status, body, ctype="application/json"):
        self.send_response(status)
        self.send_header("Content-Type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        parts = self.path.strip("/").split("/")
        if parts[0] == "good":
            self.send_body(200, good_doc(parts[-1]))
            return
        if parts[0] != "seq" or len(parts) < 3:
            self.send_body(404, b'{"error":"no such feed"}')
            return
        mode = parts[1]
        with LOCK:
            COUNTS[self.path] = COUNTS.get(self.path, 0) + 1
            n = COUNTS[self.path]
        if n == 1:
            self.send_body(200, good_doc(parts[2]))
            return
        if mode in BAD_BODIES:
            ctype = "text/html" if mode == "html" else "application/json"
            self.send_body(200, BAD_BODIES[mode], ctype)
        elif mode == "status500":
            self.send_body(500, b'{"error":"internal"}')
        elif mode == "huge":
            # ten times the broker's cap (1 MiB in the test's config), valid JSON start
            chunk = b" " * 65536
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(10 * 1024 * 1024 + 2))
            self.end_headers()
            try:
                self.wfile.write(b"{")
                for _ in range(160):
                    self.wfile.write(chunk)
                self.wfile.write(b"}")
            except OSError:
                pass
        elif mode == "truncated":
            body = good_doc(parts[2])
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body[: len(body) // 2])
            self.wfile.flush()
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
        elif mode == "hang":
            time.sleep(30)
        elif mode == "trickle":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", "100000")
            self.end_headers()
            try:
                for _ in range(30):
                    self.wfile.write(b" ")
                    self.wfile.flush()
                    time.sleep(1)
            except OSError:
                pass
        elif mode == "endless":
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Transfer-Encoding", "chunked")
            self.end_headers()
            try:
                chunk = b" " * 65536
                for _ in range(1000):
                    self.wfile.write(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            except OSError:
                pass
        else:
            self.send_body(404, b"{}")


class Server(socketserver.ThreadingMixIn, http.server.HTTPServer):
    daemon_threads = True
    allow_reuse_address = True


def main():
    srv = Server(("127.0.0.1", 0), Handler)
    with open(sys.argv[1] + ".tmp", "w") as f:
        f.write(str(srv.server_address[1]))
    import os
    os.rename(sys.argv[1] + ".tmp", sys.argv[1])
    srv.serve_forever()


if __name__ == "__main__":
    main()
