#!/usr/bin/env python3
"""A stand-in for the Hugging Face hub on 127.0.0.1, serving one model directory.

It answers the requests hf-hub (and huggingface_hub) make, with the headers they read:

  GET /api/models/{repo}/revision/{rev}   JSON: {"id", "sha": commit, "siblings": [{"rfilename"}]}
  GET /{repo}/resolve/{rev}/{file}        small files: 200/206 with ETag, X-Repo-Commit and,
                                          for a Range request, Content-Range; large files (LFS
                                          on the real hub): 302 to /cdn/{sha256} with
                                          X-Linked-Etag, X-Linked-Size and X-Repo-Commit
  GET /cdn/{sha256}                       the bytes, honouring Range (bytes=a- and bytes=a-b)

Anything else is 404 with a JSON error, as the hub answers for unknown repositories.
Revision `main` and the commit hash itself both name the one commit. Usage:

  hub_server.py --model-dir DIR --repo ORG/NAME [--log FILE]

prints `READY <port>` on stdout once listening, then serves until killed. With --log,
every request line is appended to FILE.
"""

import argparse
import hashlib
import json
import os
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit

# Files above this size go through the redirect, as LFS files do on the real hub.
LFS_THRESHOLD = 1 << 20


def scan(model_dir):
    """Relative path -> (absolute path, sha256 hex, size) for every file under model_dir."""
    files = {}
    for root, _, names in os.walk(model_dir):
        for name in names:
            path = os.path.join(root, name)
            relative = os.path.relpath(path, model_dir).replace(os.sep, "/")
            digest = hashlib.sha256()
            with open(path, "rb") as handle:
                for chunk in iter(lambda: handle.read(1 << 20), b""):
                    digest.update(chunk)
            files[relative] = (path, digest.hexdigest(), os.path.getsize(path))
    return files


def parse_range(header, size):
    """(start, end inclusive) from a `bytes=a-` or `bytes=a-b` header, or None."""
    if not header or not header.startswith("bytes="):
        return None
    first, _, last = header[len("bytes="):].partition("-")
    start = int(first)
    end = int(last) if last else size - 1
    return start, min(end, size - 1)


def make_handler(files, repo, commit, log):
    by_sha = {sha: path for (path, sha, _) in files.values()}

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            if log:
                with open(log, "a", encoding="utf-8") as handle:
                    handle.write(f"{self.command} {self.path} range={self.headers.get('Range')}\n")
            path = unquote(urlsplit(self.path).path)
            api = f"/api/models/{repo}/revision/"
            resolve = f"/{repo}/resolve/"
            if path.startswith(api) and path[len(api):] in ("main", commit):
                siblings = [{"rfilename": name} for name in sorted(files)]
                body = json.dumps({"id": repo, "sha": commit, "siblings": siblings}).encode()
                self.reply(200, body, {"Content-Type": "application/json"})
            elif path.startswith(resolve):
                revision, _, name = path[len(resolve):].partition("/")
                if revision in ("main", commit) and name in files:
                    self.resolve(name)
                else:
                    self.not_found()
            elif path.startswith("/cdn/") and path[len("/cdn/"):] in by_sha:
                sha = path[len("/cdn/"):]
                self.file(by_sha[sha], {"ETag": f'"{sha}"'})
            else:
                self.not_found()

        def resolve(self, name):
            local, sha, size = files[name]
            headers = {"X-Repo-Commit": commit}
            if size > LFS_THRESHOLD:
                host = self.headers.get("Host", "127.0.0.1")
                headers.update({
                    "Location": f"http://{host}/cdn/{sha}",
                    "X-Linked-Etag": f'"{sha}"',
                    "X-Linked-Size": str(size),
                    "ETag": f'"{sha}"',
                })
                self.reply(302, b"", headers)
            else:
                headers["ETag"] = f'"{sha}"'
                self.file(local, headers)

        def file(self, local, headers):
            size = os.path.getsize(local)
            wanted = parse_range(self.headers.get("Range"), size)
            start, end = wanted if wanted else (0, size - 1)
            if wanted:
                headers["Content-Range"] = f"bytes {start}-{end}/{size}"
            headers["Accept-Ranges"] = "bytes"
            self.send_response(206 if wanted else 200)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(max(0, end - start + 1)))
            self.end_headers()
            with open(local, "rb") as handle:
                handle.seek(start)
                remaining = end - start + 1
                while remaining > 0:
                    chunk = handle.read(min(remaining, 1 << 20))
                    if not chunk:
                        break
                    self.wfile.write(chunk)
                    remaining -= len(chunk)

        def not_found(self):
            body = json.dumps({"error": "Repository not found"}).encode()
            self.reply(404, body, {"Content-Type": "application/json", "X-Error-Code": "RepoNotFound"})

        def reply(self, status, body, headers):
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--model-dir", required=True)
    parser.add_argument("--repo", required=True)
    parser.add_argument("--log")
    args = parser.parse_args()
    files = scan(args.model_dir)
    # A stable 40-hex commit derived from the contents, like a git commit id.
    commit = hashlib.sha1("".join(sha for (_, sha, _) in sorted(files.values())).encode()).hexdigest()
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(files, args.repo, commit, args.log))
    print(f"READY {server.server_address[1]}", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    sys.exit(0)


if __name__ == "__main__":
    main()
