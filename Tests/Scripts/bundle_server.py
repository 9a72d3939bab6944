#!/usr/bin/env python3
"""A small HTTP(S) server for Tandem's tests and benchmarks: it serves one bundle file with
Range and ETag support, and can be told to misbehave the ways real servers and proxies do.

It prints the port it listens on (127.0.0.1, chosen by the kernel) as its first line of output,
then serves until killed. Every request is appended to --log as one JSON line.
"""
import argparse
import json
import os
import re
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--file", required=True, help="the file served at every path")
parser.add_argument("--mode", default="normal",
                    choices=["normal", "ignore-range", "wrong-length", "drop", "status"],
                    help="normal; ignore-range: answer 200 with the whole file to Range requests; "
                         "wrong-length: claim the file is one byte longer than it is; "
                         "drop: close the connection after --drop-after body bytes, for the first "
                         "--drop-count requests that ask for image bytes; status: answer --status")
parser.add_argument("--drop-after", type=int, default=0)
parser.add_argument("--drop-count", type=int, default=-1, help="-1: every request")
parser.add_argument("--from", dest="threshold", type=int, default=0,
                    help="misbehave only for requests whose range starts at or beyond this offset")
parser.add_argument("--status", type=int, default=500)
parser.add_argument("--rate", type=int, default=0, help="bytes per second to send at most (0: unlimited)")
parser.add_argument("--pause-at", type=int, default=0,
                    help="the first request that reaches this offset stops sending there for 120 s, so that a "
                         "test can interrupt an install at a known point without racing the transfer")
parser.add_argument("--etag", default=None, help="ETag to send (default: from size and mtime)")
parser.add_argument("--log", default=None)
parser.add_argument("--tls-cert", default=None)
parser.add_argument("--tls-key", default=None)
args = parser.parse_args()

size = os.path.getsize(args.file)
stat = os.stat(args.file)
etag = args.etag or '"%x-%x"' % (stat.st_size, int(stat.st_mtime))
lock = threading.Lock()
drops_left = [args.drop_count]
pause_pending = [args.pause_at > 0]


def log(entry):
    if args.log:
        with lock, open(args.log, "a") as handle:
            handle.write(json.dumps(entry) + "\n")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *unused):
        pass

    def do_GET(self):
        requested = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        log({"method": "GET", "path": self.path, "range": requested, "if_range": if_range})
        if args.mode == "status":
            self.send_response(args.status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"scripted failure\n")
            return

        start, end = 0, size - 1
        partial = False
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", requested or "")
        asked_from = int(match.group(1)) if match else 0
        ignore = args.mode == "ignore-range" and asked_from >= args.threshold
        if match and not ignore and (if_range is None or if_range == etag):
            start = int(match.group(1))
            end = min(int(match.group(2)), size - 1) if match.group(2) else size - 1
            partial = True
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % size)
                self.end_headers()
                return
        claimed_total = size + 1 if args.mode == "wrong-length" and start >= args.threshold else size
        length = end - start + 1

        self.send_response(206 if partial else 200)
        self.send_header("ETag", etag)
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(length))
        if partial:
            self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, claimed_total))
        self.end_headers()

        limit = length
        if args.mode == "drop" and start >= args.threshold:
            with lock:
                if drops_left[0] != 0:
                    drops_left[0] -= 1
                    limit = min(length, args.drop_after)
        with open(args.file, "rb") as source:
            paused = 0
            with lock:
                if pause_pending[0] and start < args.pause_at < start + limit:
                    pause_pending[0] = False
                    paused = args.pause_at - start
            if paused:
                self.send(source, start, paused)
                time.sleep(120)
            self.send(source, start + paused, limit - paused)
        if limit < length:
            self.connection.shutdown(socket.SHUT_RDWR)

    def send(self, source, start, count):
        if count > 0 and args.rate > 0:
            self.send_throttled(source, start, count)
        elif count > 0:
            self.connection.sendfile(source, offset=start, count=count)

    def send_throttled(self, source, start, count):
        piece = max(1, args.rate // 50)
        source.seek(start)
        while count > 0:
            data = source.read(min(piece, count))
            if not data:
                return
            self.wfile.write(data)
            count -= len(data)
            time.sleep(len(data) / args.rate)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
if args.tls_cert:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
