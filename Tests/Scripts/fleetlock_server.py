#!/usr/bin/env python3
"""A FleetLock server for Tandem's tests, answering as airlock and poseidon/fleetlock do.

POST /v1/pre-reboot takes a slot of the client's group for its id (recursive: a holder asking
again gets 200), POST /v1/steady-state releases it if held (200 either way). Success is 200 with
an empty body; errors are JSON {"kind","value"} sent as Go's http.Error sends them:
Content-Type "text/plain; charset=utf-8" and a trailing newline.

  * no "fleet-lock-protocol: true" header, or a body that is not the protocol's JSON: 400
    (kind invalid_client_identity, as airlock);
  * all slots held by others: 423 lock_held (--full-status 423, as poseidon) or 500 failed_lock
    (--full-status 500, as airlock);
  * the first --fail-first requests: 500 failed_lock, whatever they ask (a CAS conflict in
    airlock's etcd), or, with --garbage-errors, an HTML page that is not JSON.

It prints its port (127.0.0.1, chosen by the kernel) first, then serves until killed. Every
request is appended to --log as one JSON line: method, path, headers (lower-cased names), body,
the status answered and the holders of each group afterwards.
"""
import argparse
import json
import re
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--slots", type=int, default=1, help="reboot slots per group")
parser.add_argument("--full-status", type=int, default=423, choices=[423, 500])
parser.add_argument("--fail-first", type=int, default=0, help="answer this many requests with 500 first")
parser.add_argument("--garbage-errors", action="store_true", help="send the --fail-first errors as HTML")
parser.add_argument("--holders", default="", help="group=id,id;group=id: slots already held at start")
parser.add_argument("--log", default=None)
args = parser.parse_args()

lock = threading.Lock()
holders = {}
for entry in filter(None, args.holders.split(";")):
    group, ids = entry.split("=", 1)
    holders[group] = sorted(filter(None, ids.split(",")))
served = 0
GROUP = re.compile(r"^[a-zA-Z0-9.-]+$")


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *_):
        pass

    def do_POST(self):
        global served
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        with lock:
            served += 1
            status, kind, value = self.decide(served, body)
            if args.log:
                with open(args.log, "a") as handle:
                    handle.write(json.dumps({
                        "method": self.command, "path": self.path,
                        "headers": {name.lower(): val for name, val in self.headers.items()},
                        "body": body.decode("utf-8", "replace"), "status": status,
                        "holders": holders}) + "\n")
        if status == 200:
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        if kind == "html":
            payload = b"<html><body>502 Bad Gateway</body></html>"
            content_type = "text/html"
        else:
            payload = (json.dumps({"kind": kind, "value": value}) + "\n").encode()
            content_type = "text/plain; charset=utf-8"
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("X-Content-Type-Options", "nosniff")
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)

    do_GET = do_POST
    do_PUT = do_POST

    def decide(self, number, body):
        """The status, error kind and text for this request; changes the holders on success."""
        if number <= args.fail_first:
            if args.garbage_errors:
                return 502, "html", ""
            return 500, "failed_lock", "conflict on semaphore detected, aborting"
        if self.headers.get("fleet-lock-protocol") != "true":
            return 400, "invalid_client_identity", "missing or wrong fleet-lock-protocol header"
        try:
            params = json.loads(body)["client_params"]
            node, group = params["id"], params["group"]
            if not node or not isinstance(node, str) or not GROUP.match(group):
                raise ValueError("bad id or group")
        except (ValueError, KeyError, TypeError) as error:
            return 400, "invalid_client_identity", "failed to decode client parameters: %s" % error
        held = holders.setdefault(group, [])
        if self.path.endswith("/v1/pre-reboot"):
            if node in held:
                return 200, None, None
            if len(held) >= args.slots:
                if args.full_status == 423:
                    return 423, "lock_held", "group %s is locked by %s" % (group, ", ".join(held))
                return 500, "failed_lock", "all %d semaphore slots currently locked" % args.slots
            held.append(node)
            held.sort()
            return 200, None, None
        if self.path.endswith("/v1/steady-state"):
            if node in held:
                held.remove(node)
            return 200, None, None
        return 404, "not_found", "no such endpoint %s" % self.path


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(server.server_address[1], flush=True)
server.serve_forever()
