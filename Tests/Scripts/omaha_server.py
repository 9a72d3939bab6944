#!/usr/bin/env python3
"""A small scriptable Omaha v3 server for Tandem's tests: it answers update checks the way
Nebraska does (always HTTP 200, errors in the XML), or misbehaves on purpose.

It prints the port it listens on (127.0.0.1, chosen by the kernel) as its first line of output,
then serves until killed. Every request is appended to --log as one JSON line: method, path,
content type, the raw body, and what the body asked for (updatecheck, ping, events).
"""
import argparse
import base64
import json
import threading
import time
import xml.etree.ElementTree as ElementTree
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from xml.sax.saxutils import quoteattr

parser = argparse.ArgumentParser(description=__doc__)
parser.add_argument("--mode", default="ok",
                    choices=["ok", "noupdate", "nebraska-error", "wrong-size", "wrong-hash", "slow",
                             "malformed", "huge"],
                    help="ok: offer the update; noupdate; nebraska-error: app status --error with "
                         "updatecheck error-internal; wrong-size / wrong-hash: offer it with the size "
                         "one byte larger / a different sha256; slow: offer it, dripping the body over "
                         "--drip-seconds; malformed: a cut-off document; huge: 2 MiB of XML")
parser.add_argument("--version", default="9999.0.0", help="manifest version offered")
parser.add_argument("--url", default="http://127.0.0.1:1/", help="the url codebase")
parser.add_argument("--name", default="flatcar_production_update.gz", help="the package name")
parser.add_argument("--size", type=int, default=1, help="the package size")
parser.add_argument("--sha256-b64", default=base64.b64encode(bytes(32)).decode(),
                    help="the postinstall action's sha256 (base64)")
parser.add_argument("--poll-interval", type=int, default=None, help="PollInterval to send")
parser.add_argument("--error", default="error-updatesDisabled", help="the app status of nebraska-error")
parser.add_argument("--drip-seconds", type=float, default=5.0)
parser.add_argument("--log", default=None)
args = parser.parse_args()
lock = threading.Lock()


def log(entry):
    if args.log:
        with lock, open(args.log, "a") as handle:
            handle.write(json.dumps(entry) + "\n")


def update_check():
    poll = ' PollInterval="%d"' % args.poll_interval if args.poll_interval is not None else ""
    if args.mode == "noupdate":
        return '<updatecheck status="noupdate"%s/>' % poll
    size = args.size + 1 if args.mode == "wrong-size" else args.size
    digest = args.sha256_b64
    if args.mode == "wrong-hash":
        digest = base64.b64encode(bytes(b ^ 0xFF for b in base64.b64decode(digest))).decode()
    return ('<updatecheck status="ok"%s><urls><url codebase=%s/></urls><manifest version=%s>'
            '<packages><package name=%s hash="" size="%d" required="true"/></packages>'
            '<actions><action event="postinstall" sha256=%s DisablePayloadBackoff="true"/></actions>'
            '</manifest></updatecheck>'
            % (poll, quoteattr(args.url), quoteattr(args.version), quoteattr(args.name), size, quoteattr(digest)))


def respond(body):
    """The response to a request document, and a summary of the request for the log."""
    request = ElementTree.fromstring(body)
    summary = {"updatecheck": False, "ping": False, "events": []}
    apps = []
    for app in request.findall("app"):
        appid = app.get("appid", "")
        if args.mode == "nebraska-error":
            apps.append('<app appid=%s status=%s><updatecheck status="error-internal"/></app>'
                        % (quoteattr(appid), quoteattr(args.error)))
            summary["updatecheck"] = app.find("updatecheck") is not None
            continue
        parts = []
        if app.find("ping") is not None:
            summary["ping"] = True
            parts.append('<ping status="ok"/>')
        if app.find("updatecheck") is not None:
            summary["updatecheck"] = True
            parts.append(update_check())
        for event in app.findall("event"):
            summary["events"].append(dict(event.attrib))
            parts.append('<event status="ok"/>')
        apps.append('<app appid=%s status="ok">%s</app>' % (quoteattr(appid), "".join(parts)))
    document = ('<?xml version="1.0" encoding="UTF-8"?>\n<response protocol="3.0" server="omaha_server.py">'
                '<daystart elapsed_seconds="0"/>%s</response>\n' % "".join(apps))
    return document.encode(), summary


class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.0"

    def log_message(self, *unused):
        pass

    def do_GET(self):
        log({"method": "GET", "path": self.path})
        self.send_answer(400, b"Expected a POST\n", "text/plain")

    def do_POST(self):
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 20))
        entry = {"method": "POST", "path": self.path, "content_type": self.headers.get("Content-Type"),
                 "body": body.decode("utf-8", "replace")}
        try:
            answer, summary = respond(body)
            entry.update(summary)
        except ElementTree.ParseError as error:
            entry["error"] = str(error)
            log(entry)
            self.send_answer(400, b"Bad Omaha Request\n", "text/plain")
            return
        log(entry)
        if args.mode == "malformed":
            answer = answer[:len(answer) // 2]
        elif args.mode == "huge":
            filler = b"<x/>" * ((2 << 20) // 4)
            answer = b'<?xml version="1.0" encoding="UTF-8"?>\n<response protocol="3.0">' + filler + b"</response>\n"
        self.send_answer(200, answer, "text/xml; charset=utf-8")

    def send_answer(self, status, body, content_type):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if args.mode == "slow" and status == 200:
            pause = args.drip_seconds / max(1, len(body))
            for index in range(len(body)):
                self.wfile.write(body[index:index + 1])
                self.wfile.flush()
                time.sleep(pause)
        else:
            self.wfile.write(body)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
server.daemon_threads = True
print(server.server_address[1], flush=True)
server.serve_forever()
