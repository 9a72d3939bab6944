#!/usr/bin/env python3
"""A small HTTP(S) server for Tandem's tests and benchmarks: it serves one bundle file with
Range and ETag support, and can be told to misbehave the ways real servers and proxies do.

Range: "bytes=" then one or more comma-separated specs (spaces after the commas allowed): "a-b",
"a-" (to the end) and "-n" (the last n bytes). Ranges are clamped to the file and unsatisfiable
ones dropped; with none left the answer is 416 with "Content-Range: bytes */SIZE". A malformed
header (or a spec whose end is before its start) is ignored: 200 with the whole file. One range
left: a plain 206. Several: a 206 "multipart/byteranges" body laid out as nginx does (each part
"\\r\\n--B\\r\\nContent-Type: application/octet-stream\\r\\nContent-Range: bytes a-b/SIZE\\r\\n\\r\\n"
and its data, then "\\r\\n--B--\\r\\n"), in the order asked, not merged. An If-Range that is not the
ETag, or more ranges than --max-ranges, get the whole file (200), as if there were no Range.

It prints the port it listens on (127.0.0.1, chosen by the kernel) as its first line of output,
then serves until killed. Every request is appended to --log as one JSON line when it arrives:
method, path, range and if_range (the headers, or null), ranges (how many range specs were asked,
0 without a valid Range), then status (0 until the response starts), bytes (body bytes sent, 0 until
the response ends or pauses) and done (false until the response ends, completely or not). These
three are rewritten in place, same width, so a line can be read at any time: sum "bytes" over
lines that are "done" for what was downloaded.
"""
import argparse
import json
import os
import re
import secrets
import socket
import ssl
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
parser.add_argument("--file", required=True, help="the file served at every path")
parser.add_argument("--mode", default="normal",
                    choices=["normal", "ignore-range", "wrong-length", "drop", "status",
                             "lie", "short-range", "merge-ranges"],
                    help="normal; ignore-range: answer 200 with the whole file to Range requests, single or "
                         "multi-range; wrong-length: claim the file is one byte longer than it is (in every "
                         "Content-Range); drop: close the connection after --drop-after body bytes (multipart "
                         "delimiters and part headers count), for the first --drop-count requests that ask for "
                         "image bytes; status: answer --status; lie: right headers, but every data byte of the "
                         "body flipped (XOR 0xFF; multipart part headers and delimiters intact); short-range: "
                         "answer a single range with a 206 for its first half only (at least 1 byte), a "
                         "multi-range request without its last part; merge-ranges: answer a multi-range request "
                         "with one plain 206 from the lowest start asked to the highest end. The misbehaving "
                         "modes apply only from --from; lie, short-range and merge-ranges only to the first "
                         "--lie-count requests they change")
parser.add_argument("--drop-after", type=int, default=0, help="drop: body bytes sent before the connection is closed")
parser.add_argument("--drop-count", type=int, default=-1, help="drop: how many requests to drop (-1: every request)")
parser.add_argument("--lie-count", type=int, default=-1,
                    help="lie, short-range, merge-ranges: how many requests to misanswer (-1: every request)")
parser.add_argument("--from", dest="threshold", type=int, default=0,
                    help="misbehave only for requests whose (first) range starts at or beyond this offset "
                         "(a request without Range starts at 0)")
parser.add_argument("--max-ranges", type=int, default=0,
                    help="a request asking for more ranges than this gets the whole file (200), as with nginx's "
                         "max_ranges; 1: a server without multi-range support (0: no limit)")
parser.add_argument("--status", type=int, default=500, help="status: the status code to answer")
parser.add_argument("--rate", type=int, default=0,
                    help="bytes per second to send at most, multipart bodies included (0: unlimited)")
parser.add_argument("--pause-at", type=int, default=0,
                    help="the first request that reaches this offset stops sending there for 120 s, so that a "
                         "test can interrupt an install at a known point without racing the transfer (in a "
                         "multipart body: the first part that covers the offset)")
parser.add_argument("--etag", default=None, help="ETag to send (default: from size and mtime)")
parser.add_argument("--blocks", default=None,
                    help="the file served at paths ending in .blocks (a bundle's block file), always as in normal "
                         "mode; without it those paths get 404, as from a server that has no such file")
parser.add_argument("--log", default=None, help="the JSON-lines request log")
parser.add_argument("--tls-cert", default=None)
parser.add_argument("--tls-key", default=None)
args = parser.parse_args()

class Served:
    """One file served: its path, size and ETag."""

    def __init__(self, path, etag=None):
        self.path = path
        self.size = os.path.getsize(path)
        stat = os.stat(path)
        self.etag = etag or '"%x-%x"' % (stat.st_size, int(stat.st_mtime))


bundle = Served(args.file, args.etag)
blocks = Served(args.blocks) if args.blocks else None
# The file the current request's thread serves.
current = threading.local()
lock = threading.Lock()
drops_left = [args.drop_count]
lies_left = [args.lie_count]
pause_pending = [args.pause_at > 0]
FLIP = bytes(range(255, -1, -1))
SPEC = re.compile(r"(\d+)-(\d*)|-(\d+)")
# The end of a log line, rewritten in place when the response starts, pauses and ends: same width.
TAIL = '"status": %3d, "bytes": %-20d, "done": %-5s}'


def log(entry):
    """Appends the entry and a TAIL; returns where the TAIL is, for finish_log."""
    if not args.log:
        return None
    head = (json.dumps(entry)[:-1] + ", ").encode()
    with lock, open(args.log, "ab") as handle:
        handle.seek(0, os.SEEK_END)
        where = handle.tell() + len(head)
        handle.write(head + (TAIL % (0, 0, "false") + "\n").encode())
    return where


def update_log(where, status, sent, done):
    if where is None:
        return
    try:
        with lock, open(args.log, "r+b") as handle:
            handle.seek(where)
            handle.write((TAIL % (status, sent, "true" if done else "false")).encode())
    except OSError:
        pass


def parse_range(header):
    """The specs of a Range header as (first, last) pairs, first None for a suffix ("-n": last is
    n), last None for "a-"; None if there is no header or it is malformed."""
    if header is None or not header.startswith("bytes="):
        return None
    specs = []
    for text in header[len("bytes="):].split(","):
        match = SPEC.fullmatch(text.strip(" \t"))
        if not match:
            return None
        if match.group(3) is not None:
            specs.append((None, int(match.group(3))))
        else:
            first = int(match.group(1))
            last = int(match.group(2)) if match.group(2) else None
            if last is not None and last < first:
                return None
            specs.append((first, last))
    return specs


def first_offset(specs):
    """Where the first range asked starts (0 without a Range)."""
    if not specs:
        return 0
    first, last = specs[0]
    return max(0, current.served.size - last) if first is None else first


def satisfiable(specs):
    """The specs as (start, end) inclusive offsets in the file, clamped, unsatisfiable ones dropped."""
    ranges = []
    for first, last in specs:
        if first is None:
            if last > 0 and current.served.size > 0:
                ranges.append((max(0, current.served.size - last), current.served.size - 1))
        elif first < current.served.size:
            ranges.append((first, current.served.size - 1 if last is None else min(last, current.served.size - 1)))
    return ranges


def take_lie():
    with lock:
        if lies_left[0] == 0:
            return False
        lies_left[0] -= 1
        return True


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *unused):
        pass

    def do_GET(self):
        requested = self.headers.get("Range")
        if_range = self.headers.get("If-Range")
        specs = parse_range(requested)
        self.status = 0
        self.sent = 0
        self.where = log({"method": "GET", "path": self.path, "range": requested, "if_range": if_range,
                          "ranges": len(specs) if specs else 0})
        try:
            self.answer(specs, if_range)
        finally:
            update_log(self.where, self.status, self.sent, True)

    def send_response(self, code, message=None):
        self.status = code
        super().send_response(code, message)

    def answer(self, specs, if_range):
        current.served, current.mode = bundle, args.mode
        if self.path.split("?")[0].endswith(".blocks"):
            if blocks is None:
                self.send_response(404)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
            current.served, current.mode = blocks, "normal"
        if current.mode == "status":
            self.send_response(args.status)
            self.send_header("Content-Type", "text/plain")
            self.end_headers()
            self.wfile.write(b"scripted failure\n")
            self.sent = len(b"scripted failure\n")
            return

        if specs and 0 < args.max_ranges < len(specs):
            specs = None
        asked_from = first_offset(specs)
        misbehaving = asked_from >= args.threshold
        ignore = current.mode == "ignore-range" and misbehaving
        ranges = None
        if specs and not ignore and (if_range is None or if_range == current.served.etag):
            ranges = satisfiable(specs)
            if not ranges:
                self.send_response(416)
                self.send_header("Content-Range", "bytes */%d" % current.served.size)
                self.end_headers()
                return

        flip = False
        multipart = ranges is not None and len(ranges) > 1
        if current.mode == "lie" and misbehaving:
            flip = take_lie()
        elif current.mode == "short-range" and ranges and misbehaving and take_lie():
            if multipart:
                ranges = ranges[:-1]
            else:
                start, end = ranges[0]
                ranges = [(start, start + max(1, (end - start + 1) // 2) - 1)]
        elif current.mode == "merge-ranges" and multipart and misbehaving and take_lie():
            ranges = [(min(start for start, _ in ranges), max(end for _, end in ranges))]
            multipart = False

        start, end = ranges[0] if ranges else (0, current.served.size - 1)
        claimed_total = current.served.size + 1 if current.mode == "wrong-length" and start >= args.threshold else current.served.size
        self.send_response(206 if ranges else 200)
        self.send_header("ETag", current.served.etag)
        self.send_header("Accept-Ranges", "bytes")
        if multipart:
            boundary = secrets.token_hex(8)
            body = []
            for start_, end_ in ranges:
                body.append(("\r\n--%s\r\nContent-Type: application/octet-stream\r\nContent-Range: bytes %d-%d/%d\r\n\r\n"
                             % (boundary, start_, end_, claimed_total)).encode())
                body.append((start_, end_ - start_ + 1))
            body.append(("\r\n--%s--\r\n" % boundary).encode())
            length = sum(len(piece) if isinstance(piece, bytes) else piece[1] for piece in body)
            self.send_header("Content-Type", "multipart/byteranges; boundary=%s" % boundary)
            self.send_header("Content-Length", str(length))
        else:
            length = end - start + 1
            body = [(start, length)]
            self.send_header("Content-Length", str(length))
            if ranges:
                self.send_header("Content-Range", "bytes %d-%d/%d" % (start, end, claimed_total))
        self.end_headers()

        limit = length
        if current.mode == "drop" and start >= args.threshold:
            with lock:
                if drops_left[0] != 0:
                    drops_left[0] -= 1
                    limit = min(length, args.drop_after)
        with open(current.served.path, "rb") as source:
            left = limit
            for piece in body:
                if left <= 0:
                    break
                if isinstance(piece, bytes):
                    self.write(piece[:left])
                    left -= min(len(piece), left)
                    continue
                offset, count = piece[0], min(piece[1], left)
                paused = 0
                with lock:
                    if pause_pending[0] and offset < args.pause_at < offset + count:
                        pause_pending[0] = False
                        paused = args.pause_at - offset
                if paused:
                    self.send(source, offset, paused, flip)
                    update_log(self.where, self.status, self.sent, False)
                    time.sleep(120)
                self.send(source, offset + paused, count - paused, flip)
                left -= count
        if limit < length:
            self.connection.shutdown(socket.SHUT_RDWR)

    def write(self, data):
        """Sends bytes that are not file data (multipart delimiters and part headers), at --rate."""
        self.wfile.write(data)
        self.sent += len(data)
        if args.rate > 0:
            time.sleep(len(data) / args.rate)

    def send(self, source, start, count, flip=False):
        if count > 0 and (args.rate > 0 or flip):
            self.send_read(source, start, count, flip)
        elif count > 0:
            self.sent += self.connection.sendfile(source, offset=start, count=count)

    def send_read(self, source, start, count, flip):
        piece = max(1, args.rate // 50) if args.rate > 0 else 1 << 20
        source.seek(start)
        while count > 0:
            data = source.read(min(piece, count))
            if not data:
                return
            self.wfile.write(data.translate(FLIP) if flip else data)
            self.sent += len(data)
            count -= len(data)
            if args.rate > 0:
                time.sleep(len(data) / args.rate)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
if args.tls_cert:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(args.tls_cert, args.tls_key)
    server.socket = context.wrap_socket(server.socket, server_side=True)
print(server.server_address[1], flush=True)
server.serve_forever()
