#!/usr/bin/env python3
"""An HTTP server for HTTPClient's tests, on 127.0.0.1 at a port the kernel chooses (printed
first). /status/N answers status N; /echo the request as JSON (method, headers, base64 body);
/bytes/N N bytes; /slow a 10-byte body that trickles out over 10 s. Two X-Echo headers on every
answer but /slow. --log is accepted for ScriptServer and unused: the answers say it all.
"""
import argparse
import base64
import json
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    def log_message(self, *_): pass
    def answer(self, status, body, content_type="text/plain"):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("X-Echo", "first")
        self.send_header("X-Echo", "second")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)
    def handle_any(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        if self.path.startswith("/status/"):
            code = int(self.path.split("/")[2])
            return self.answer(code, ("status %d" % code).encode())
        if self.path == "/echo":
            echo = {"method": self.command, "headers": {k.lower(): v for k, v in self.headers.items()},
                    "body": base64.b64encode(body).decode()}
            return self.answer(200, json.dumps(echo).encode(), "application/json")
        if self.path.startswith("/bytes/"):
            return self.answer(200, b"x" * int(self.path.split("/")[2]))
        if self.path == "/slow":
            self.send_response(200)
            self.send_header("Content-Length", "10")
            self.end_headers()
            for _ in range(10):
                self.wfile.write(b"x"); self.wfile.flush(); time.sleep(1)
            return
        self.answer(404, b"no such path")
    do_GET = do_POST = do_PUT = do_DELETE = handle_any

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--log")
parser.parse_args()

server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
