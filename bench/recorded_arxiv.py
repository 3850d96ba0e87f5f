#!/usr/bin/env python3
"""A stand-in for the arXiv API on 127.0.0.1, for bench/submit.sh.

Answers `/api/query?id_list=ID` with a feed holding that paper's entry as arXiv
recorded it: every <entry> of the recorded API responses in the shared data
(arxiv-api-atom/, 246 entries, about 230 distinct papers) is indexed by its bare id.
An id it does not know gets an empty feed, as arXiv answers. Prints READY and the
port on stdout when listening; `--list` prints the known ids instead.

    recorded_arxiv.py SHARED_DATA_DIR [--list]
"""

import http.server
import pathlib
import re
import sys
import urllib.parse

ENTRY = re.compile(r"<entry>.*?</entry>", re.S)
ENTRY_ID = re.compile(r"<id>https?://arxiv\.org/abs/([^<]+?)(v\d+)?</id>")

HEAD = """<?xml version='1.0' encoding='UTF-8'?>
<feed xmlns:opensearch="http://a9.com/-/spec/opensearch/1.1/" xmlns:arxiv="http://arxiv.org/schemas/atom" xmlns="http://www.w3.org/2005/Atom">
  <id>https://arxiv.org/api/recorded</id>
  <title>arXiv Query: id_list={ids}</title>
  <updated>2026-04-12T22:10:19Z</updated>
  <opensearch:itemsPerPage>{count}</opensearch:itemsPerPage>
  <opensearch:totalResults>{count}</opensearch:totalResults>
  <opensearch:startIndex>0</opensearch:startIndex>
"""


def load(data_dir):
    entries = {}
    for path in sorted(pathlib.Path(data_dir, "arxiv-api-atom").rglob("*.xml")):
        text = path.read_text(encoding="utf-8")
        for entry in ENTRY.findall(text):
            found = ENTRY_ID.search(entry)
            if found and "/api/errors" not in found.group(1):
                entries.setdefault(found.group(1), entry)
    return entries


def main():
    entries = load(sys.argv[1])
    if "--list" in sys.argv[2:]:
        for paper_id in entries:
            print(paper_id)
        return

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            url = urllib.parse.urlsplit(self.path)
            if url.path != "/api/query":
                self.send_error(404)
                return
            query = urllib.parse.parse_qs(url.query)
            ids = [re.sub(r"v\d+$", "", i) for i in ",".join(query.get("id_list", [""])).split(",") if i]
            found = [entries[i] for i in ids if i in entries]
            body = (HEAD.format(ids=",".join(ids), count=len(found)) + "".join(found) + "\n</feed>\n").encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/atom+xml; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    print(f"READY {server.server_address[1]}", flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
