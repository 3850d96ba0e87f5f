#!/usr/bin/env python3
"""A recorded OAI-PMH endpoint for the harvest tests, serving the files of a directory.

`python3 oai_server.py DIR` listens on 127.0.0.1 (a free port), prints `READY PORT`,
and answers `GET /oai?verb=ListRecords&...` from DIR, which the test changes while the
server runs:

- `ListRecords-SET-from-DAY.xml` answers the first request of a list
  (`metadataPrefix=arXiv&from=DAY&set=SET`); without it, the answer is OAI's
  `noRecordsMatch` with the `responseDate` in `today` (nothing new was announced).
- `token-TOKEN.xml` answers `resumptionToken=TOKEN`; without it, `badResumptionToken`
  (an expired token).
- `fail-503` holding a number N: the next N requests answer 503 with `Retry-After: 1`.
- `hold-TOKEN`: a request for TOKEN waits while the file exists (so a test can kill
  the harvester while it is in the middle of a list).
- `hf-DAY.json` answers `GET /api/daily_papers?date=DAY` (else `[]`).

Every request is appended to `requests.log` before it is answered: one line, its path
and query, a tab, and the Unix time it arrived.
"""

import os
import sys
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlparse

ROOT = sys.argv[1]


def path(name):
    return os.path.join(ROOT, name)


def read(name):
    try:
        with open(path(name), "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def oai_error(code, message):
    today = (read("today") or b"2024-01-01").decode().strip()
    return (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">\n'
        f"<responseDate>{today}T01:00:00Z</responseDate>\n"
        '<request verb="ListRecords">http://export.arxiv.org/oai2</request>\n'
        f'<error code="{code}">{message}</error>\n'
        "</OAI-PMH>\n"
    ).encode()


class Handler(BaseHTTPRequestHandler):
    def log_message(self, *args):
        pass

    def answer(self, status, body, content_type="text/xml", headers=()):
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        for name, value in headers:
            self.send_header(name, value)
        self.end_headers()
        self.wfile.write(body)

    def do_GET(self):
        with open(path("requests.log"), "a") as log:
            log.write(f"{self.path}\t{time.time():.3f}\n")
        failing = read("fail-503")
        if failing is not None and int(failing.decode().strip() or "0") > 0:
            with open(path("fail-503"), "w") as f:
                f.write(str(int(failing.decode().strip()) - 1))
            self.answer(503, b"busy", "text/plain", [("Retry-After", "1")])
            return
        url = urlparse(self.path)
        query = {k: v[0] for k, v in parse_qs(url.query).items()}
        if url.path == "/api/daily_papers":
            body = read(f"hf-{query.get('date', '')}.json") or b"[]"
            self.answer(200, body, "application/json")
            return
        if query.get("verb") != "ListRecords":
            self.answer(200, oai_error("badVerb", "only ListRecords is recorded"))
            return
        token = query.get("resumptionToken")
        if token is not None:
            while os.path.exists(path(f"hold-{token}")):
                time.sleep(0.05)
            body = read(f"token-{token}.xml")
            if body is None:
                body = oai_error("badResumptionToken", f"token {token} is unknown or expired")
            self.answer(200, body)
            return
        name = f"ListRecords-{query.get('set', '').replace(':', '_')}-from-{query.get('from', '')}.xml"
        body = read(name)
        if body is None:
            body = oai_error("noRecordsMatch", "no records changed in this range")
        self.answer(200, body)


server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
print(f"READY {server.server_address[1]}", flush=True)
server.serve_forever()
