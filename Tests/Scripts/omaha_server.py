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
                             "malformed", "huge", "http-error"],
                    help="ok: offer the update; noupdate; nebraska-error: app status --error with "
                         "updatecheck error-internal; wrong-size / wrong-hash: offer it with the size "
                         "one byte larger / a different sha256; slow: offer it, dripping the body over "
                         "--drip-seconds; malformed: a cut-off document; huge: 2 MiB of XML; http-error: "
                         "HTTP --status for update checks (events and pings still get 200)")
parser.add_argument("--version", default="9999.0.0", help="manifest version offered")
parser.add_argument("--url", default="http://127.0.0.1:1/", help="the url codebase")
parser.add_argument("--name", default="flatcar_production_update.gz", help="the package name")
parser.add_argument("--size", type=int, default=1, help="the package size")
parser.add_argument("--sha256-b64", default=base64.b64encode(bytes(32)).decode(),
                    help="the postinstall action's sha256 (base64)")
parser.add_argument("--poll-interval", type=int, default=None, help="PollInterval to send")
parser.add_argument("--error", default="error-updatesDisabled", help="the app status of nebraska-error")
parser.add_argument("--drip-seconds", type=float, default=5.0)
parser.add_argument("--status", type=int, default=500, help="the HTTP status of http-error")
parser.add_argument("--control", default=None,
                    help="a JSON file, re-read for every request, whose keys (the options above with _ for -) "
                         "override the command line: a test changes the server's behaviour as it goes")
parser.add_argument("--log", default=None)
defaults = parser.parse_args()
lock = threading.Lock()


def current():
    """The options for this request: the command line, overridden by the control file."""
    settings = argparse.Namespace(**vars(defaults))
    if defaults.control:
        try:
            with open(defaults.control) as handle:
                for key, value in json.load(handle).items():
                    setattr(settings, key, value)
        except FileNotFoundError:
            pass
    return settings


def log(entry):
    if defaults.log:
        with lock, open(defaults.log, "a") as handle:
            handle.write(json.dumps(entry) + "\n")


def update_check(args):
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


def respond(body, args):
    """The response to a request document, and a summary of the request for the log."""
    request = ElementTree.fromstring(body)
    summary = {"updatecheck": False, "ping": False, "events": [], "request": dict(request.attrib),
               "os": dict(request.find("os").attrib) if request.find("os") is not None else {}, "app": {}}
    apps = []
    for app in request.findall("app"):
        summary["app"] = dict(app.attrib)
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
            parts.append(update_check(args))
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
        self.send_answer(400, b"Expected a POST\n", "text/plain", current())

    def do_POST(self):
        args = current()
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(min(length, 1 << 20))
        entry = {"method": "POST", "path": self.path, "content_type": self.headers.get("Content-Type"),
                 "body": body.decode("utf-8", "replace"), "mode": args.mode}
        try:
            answer, summary = respond(body, args)
            entry.update(summary)
        except ElementTree.ParseError as error:
            entry["error"] = str(error)
            log(entry)
            self.send_answer(400, b"Bad Omaha Request\n", "text/plain", args)
            return
        log(entry)
        if args.mode == "http-error" and summary["updatecheck"]:
            self.send_answer(args.status, b"the server is having a bad day\n", "text/plain", args)
            return
        if args.mode == "malformed":
            answer = answer[:len(answer) // 2]
        elif args.mode == "huge":
            filler = b"<x/>" * ((2 << 20) // 4)
            answer = b'<?xml version="1.0" encoding="UTF-8"?>\n<response protocol="3.0">' + filler + b"</response>\n"
        self.send_answer(200, answer, "text/xml; charset=utf-8", args)

    def send_answer(self, status, body, content_type, args):
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
