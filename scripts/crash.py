"""The crash campaign behind scripts/crash.sh: SIGKILL `papers` at random moments and
check, after each kill, that nothing a finished transaction committed was lost.

Each round starts one of
  ingest  `papers ingest` of the large Kaggle-format archive, split into parts (one
          transaction per file, so the parts give several commit points to kill between)
  index   `papers index` after a fresh batch of papers (embedding, then catch-up), or
          `papers reindex`
  digest  `papers digest send` to fresh confirmed subscribers, over the real SMTP
          server the tests use (crates/digest/tests/smtp_server.py)
  serve   `papers serve` while logged-in members vote and submit stored papers through
          the site's API and forms
kills it with SIGKILL at a random moment, then restarts the work and checks:
  integrity   PRAGMA integrity_check is ok (SQLite)
  committed   every file whose ingest finished is in the store, no file is half there,
              and re-running the ingest reaches the full count
  index       after `papers index` the lexical index holds exactly the store's papers,
              every paper has a vector, and sampled titles are found by `papers search`
  votes       every acknowledged upvote is stored exactly once, nothing unasked is,
              every paper's member_upvotes equals its vote rows, acknowledged
              submissions are stored
  digest      each subscriber gets one digest, at most one subscriber per kill a second
              one (the one in flight, ARCHITECTURE.md), no `sending` row is left
  claims      after the kill a new run claims the job and finishes (exit 0)

Usage: python3 scripts/crash.py --papers BIN --work DIR --kills N [--seed S]
       [--engine sqlite|postgres --database-url URL]
Prints one line per round and the last line `crash: N kills, V invariant violations`.
"""

import argparse
import csv
import gzip
import http.cookiejar
import io
import json
import os
import random
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

SECRET = "crash-campaign-secret-0123456789abcdef"
PUBLIC_URL = "http://papers.test"
# A daily digest due on this day covers the feed day before, which the recorded
# Hugging Face days hold.
DIGEST_AS_OF = "2024-01-03"
DIGEST_SUBSCRIBERS = 12


def log(text):
    print(text, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class Database:
    """The store's database, read directly (SQLite file or PostgreSQL through psql)."""

    def __init__(self, engine, data_dir, url):
        self.engine = engine
        self.data_dir = data_dir
        self.url = url

    def rows(self, sql, params=()):
        if self.engine == "sqlite":
            connection = self.connect()
            try:
                return connection.execute(sql, params).fetchall()
            finally:
                connection.close()
        # psql has no parameters; the campaign only passes its own strings and numbers.
        for value in params:
            quoted = str(value).replace("'", "''")
            sql = sql.replace("?", "'%s'" % quoted, 1)
        # CSV: titles may hold commas, tabs and newlines.
        output = subprocess.run(
            ["psql", "-X", "-q", "-t", "--csv", "-v", "ON_ERROR_STOP=1", self.url, "-c", sql],
            check=True, capture_output=True, text=True).stdout
        return [tuple(row) for row in csv.reader(io.StringIO(output)) if row]

    def path(self):
        return os.path.join(self.data_dir, "papers.sqlite3")

    def connect(self):
        # mode=rw: never create the database the binary has not made.
        return sqlite3.connect("file:%s?mode=rw" % self.path(), uri=True, timeout=30)

    def papers(self):
        """The number of papers; 0 before the binary made the database and its tables."""
        if self.engine == "sqlite" and not os.path.exists(self.path()):
            return 0
        tables = self.rows(
            "SELECT count(*) FROM sqlite_master WHERE name = 'papers'" if self.engine == "sqlite"
            else "SELECT count(*) FROM information_schema.tables WHERE table_name = 'papers'")
        return self.scalar("SELECT count(*) FROM papers") if int(tables[0][0]) else 0

    def scalar(self, sql, params=()):
        value = self.rows(sql, params)[0][0]
        return int(value) if isinstance(value, str) and value.lstrip("-").isdigit() else value

    def execute(self, sql, params=()):
        if self.engine == "sqlite":
            connection = self.connect()
            try:
                connection.execute(sql, params)
                connection.commit()
            finally:
                connection.close()
        else:
            self.rows(sql, params)

    def integrity(self):
        """Problems PRAGMA integrity_check (SQLite) or amcheck-free checks (PostgreSQL) see."""
        if self.engine == "sqlite":
            if not os.path.exists(self.path()):
                return []  # killed before it made the database: nothing to check
            connection = self.connect()
            try:
                result = [row[0] for row in connection.execute("PRAGMA integrity_check")]
                keys = connection.execute("PRAGMA foreign_key_check").fetchall()
            finally:
                connection.close()
            problems = [] if result == ["ok"] else result[:5]
            problems += ["foreign key: %r" % (row,) for row in keys[:5]]
            return problems
        # PostgreSQL's WAL makes a killed client harmless to the files; what can go
        # wrong is the application's own consistency, which the other checks cover.
        return []


class Papers:
    """Runs the binary against one data directory."""

    def __init__(self, binary, data_dir, env):
        self.binary = binary
        self.data_dir = data_dir
        self.env = env

    def command(self, *args):
        return [self.binary, "--data-dir", self.data_dir, *args]

    def run(self, *args, check=True, timeout=1800):
        done = subprocess.run(self.command(*args), env=self.env, capture_output=True,
                              text=True, timeout=timeout)
        if check and done.returncode != 0:
            raise RuntimeError("papers %s failed (%d): %s" % (
                " ".join(args), done.returncode, done.stderr[-2000:]))
        return done

    def start(self, *args, stdout_path, stderr_path):
        return subprocess.Popen(self.command(*args), env=self.env,
                                stdout=open(stdout_path, "w"), stderr=open(stderr_path, "w"))


def kill_at(process, delay):
    """SIGKILLs `process` after `delay` seconds; True when it was still running."""
    deadline = time.monotonic() + delay
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        time.sleep(min(0.01, max(0.0, deadline - time.monotonic())))
    if process.poll() is not None:
        return False
    process.send_signal(signal.SIGKILL)
    process.wait()
    return True


class Campaign:
    def __init__(self, arguments):
        self.arguments = arguments
        self.random = random.Random(arguments.seed)
        self.work = os.path.abspath(arguments.work)
        self.shared = os.environ.get("PAPERS_SHARED", os.path.join(os.getcwd(), "..", "shared"))
        self.violations = []
        self.kills = 0
        self.rounds = 0
        self.kills_by_kind = {}
        self.estimate = {}
        self.env = dict(os.environ)
        self.env.update({
            "PAPERS_SECRET": SECRET,
            "PAPERS_PUBLIC_URL": PUBLIC_URL,
            "PAPERS_MAIL_FROM": "Daily Papers <papers@papers.test>",
            "HF_HUB_OFFLINE": "1",
            "NO_COLOR": "1",
        })
        self.env.pop("PAPERS_DATABASE_URL", None)
        self.env.pop("PAPERS_SMTP_URL", None)
        self.env.pop("PAPERS_CONFIG", None)

    # ---- set-up -----------------------------------------------------------------

    def papers(self, name):
        data_dir = os.path.join(self.work, name)
        env = dict(self.env)
        if self.arguments.engine == "postgres":
            env["PAPERS_DATABASE_URL"] = self.database_url(name)
        return Papers(self.arguments.papers, data_dir, env)

    def database_url(self, name):
        base = self.arguments.database_url.rstrip("/")
        return base.rsplit("/", 1)[0] + "/crash_" + name

    def database(self, name):
        return Database(self.arguments.engine, os.path.join(self.work, name),
                        self.database_url(name) if self.arguments.engine == "postgres" else None)

    def fresh_store(self, name):
        subprocess.run(["rm", "-rf", os.path.join(self.work, name)], check=True)
        os.makedirs(os.path.join(self.work, name))
        if self.arguments.engine == "postgres":
            admin = self.arguments.database_url
            database = "crash_" + name
            for sql in ("DROP DATABASE IF EXISTS %s WITH (FORCE)" % database,
                        "CREATE DATABASE %s" % database):
                subprocess.run(["psql", "-X", "-q", admin, "-c", sql], check=True,
                               capture_output=True)

    def prepare(self):
        os.makedirs(self.work, exist_ok=True)
        archive = os.path.join(self.shared, "data/arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz")
        parts = self.arguments.ingest_parts
        per_part = self.arguments.ingest_records // parts
        self.parts = [os.path.join(self.work, "part-%d.jsonl" % n) for n in range(parts)]
        self.pool = []
        with gzip.open(archive, "rt", encoding="utf-8") as source:
            for path in self.parts:
                with open(path, "w", encoding="utf-8") as part:
                    for _ in range(per_part):
                        part.write(source.readline())
            # The rest feeds the index rounds, a batch of new papers each.
            batch = []
            for line in source:
                batch.append(line)
                if len(batch) == self.arguments.index_batch:
                    self.pool.append(batch)
                    batch = []
                    if len(self.pool) >= 400:
                        break
        self.pool_next = 0

        # The ingest store: the cumulative count after each part, from an uncut run.
        self.fresh_store("bulk")
        bulk = self.papers("bulk")
        started = time.monotonic()
        self.cumulative = [0]
        for path in self.parts:
            bulk.run("ingest", path)
            self.cumulative.append(self.database("bulk").scalar("SELECT count(*) FROM papers"))
        self.estimate["ingest"] = time.monotonic() - started
        log("setup: ingest of %d parts (%d records): %s papers in %.1fs" % (
            parts, per_part * parts, self.cumulative[1:], self.estimate["ingest"]))
        self.bulk_parts = len(self.parts)

        # The site store: the recorded Hugging Face days and the Kaggle sample, indexed.
        self.fresh_store("site")
        site = self.papers("site")
        # A few recorded Hugging Face days (the digest's feed day among them) and the
        # Kaggle sample: small, so embedding them all at set-up stays short.
        days = os.path.join(self.shared, "data/hf-daily-papers-api/2023-11-to-2024-04")
        hf = [os.path.join(days, name) for name in sorted(os.listdir(days))
              if name.endswith(".json") and name[-15:-5] <= "2024-01-08"]
        kaggle = os.path.join(self.shared, "data/arxiv-kaggle-snapshot")
        site.run("ingest", "--skip-invalid", *hf, kaggle)
        started = time.monotonic()
        site.run("index")
        log("setup: site store %d papers, indexed in %.1fs" % (
            self.database("site").scalar("SELECT count(*) FROM papers"), time.monotonic() - started))
        self.add_index_batch(site)
        started = time.monotonic()
        site.run("index")
        self.estimate["index"] = time.monotonic() - started
        started = time.monotonic()
        site.run("reindex")
        self.estimate["reindex"] = time.monotonic() - started

        self.mail_dir = os.path.join(self.work, "mail")
        os.makedirs(self.mail_dir, exist_ok=True)
        self.smtp_port = free_port()
        server = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "../crates/digest/tests/smtp_server.py")
        # A short delay per message widens the window in which a kill lands mid-send.
        self.smtp = subprocess.Popen(
            [sys.executable, server, "--port", str(self.smtp_port), "--dir", self.mail_dir,
             "--data-delay-ms", "20"],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        if self.smtp.stdout.readline().strip() != "READY":
            raise RuntimeError("the SMTP server did not start")
        self.subscriber_serial = 0
        started = time.monotonic()
        emails = self.add_subscribers("site")
        self.digest_command(site).wait()
        self.estimate["digest"] = time.monotonic() - started
        self.check_digest_mail(emails, kills=0, kind="setup")
        log("setup: estimates %s" % {k: round(v, 1) for k, v in self.estimate.items()})

    def add_index_batch(self, site):
        batch = self.pool[self.pool_next % len(self.pool)]
        self.pool_next += 1
        path = os.path.join(self.work, "batch.jsonl")
        with open(path, "w", encoding="utf-8") as file:
            file.writelines(batch)
        site.run("ingest", "--skip-invalid", path)

    def add_subscribers(self, name):
        """Fresh confirmed daily subscribers, written straight into the store."""
        database = self.database(name)
        emails = []
        for _ in range(DIGEST_SUBSCRIBERS):
            self.subscriber_serial += 1
            email = "reader%d@example.org" % self.subscriber_serial
            database.execute(
                "INSERT INTO subscriptions (email, frequency, categories, queries, status, "
                "created_at, confirmed_at, token_nonce) VALUES (?, 'daily', '[]', '[]', "
                "'confirmed', '2024-01-01T00:00:00Z', '2024-01-01T00:00:00Z', ?)",
                (email, "nonce%d" % self.subscriber_serial))
            emails.append(email)
        return emails

    def digest_command(self, site):
        env = dict(site.env)
        env["PAPERS_SMTP_URL"] = "smtp://127.0.0.1:%d" % self.smtp_port
        out = os.path.join(self.work, "digest.out")
        return subprocess.Popen(site.command("digest", "send", "--as-of", DIGEST_AS_OF),
                                env=env, stdout=open(out, "w"), stderr=subprocess.STDOUT)

    # ---- checks -----------------------------------------------------------------

    def violation(self, round_name, text):
        self.violations.append("%s: %s" % (round_name, text))
        log("  VIOLATION %s: %s" % (round_name, text))

    def check_integrity(self, name, round_name):
        for problem in self.database(name).integrity():
            self.violation(round_name, "integrity of %s: %s" % (name, problem))

    def check_digest_mail(self, emails, kills, kind):
        counts = {email: 0 for email in emails}
        for entry in os.listdir(self.mail_dir):
            if not entry.endswith(".json") or entry.startswith("."):
                continue
            with open(os.path.join(self.mail_dir, entry)) as file:
                summary = json.load(file)
            for to in summary["rcpt_tos"]:
                if to in counts:
                    counts[to] += 1
        missing = [email for email, n in counts.items() if n == 0]
        twice = [email for email, n in counts.items() if n == 2]
        more = [email for email, n in counts.items() if n > 2]
        if missing:
            self.violation(kind, "no digest for %s" % missing)
        if more or len(twice) > kills:
            self.violation(kind, "digests repeated beyond the one in flight: %s" % {
                e: counts[e] for e in twice + more})
        return len(twice)

    # ---- rounds -----------------------------------------------------------------

    def delay(self, kind):
        return self.random.uniform(0.02, max(0.1, self.estimate[kind]))

    def round_ingest(self, name):
        bulk = self.papers("bulk")
        database = self.database("bulk")
        if self.random.random() < 0.5:
            self.fresh_store("bulk")
            held = 0
        else:
            held = self.bulk_parts
        out = os.path.join(self.work, "ingest.out")
        process = bulk.start("ingest", *self.parts, stdout_path=out,
                             stderr_path=os.path.join(self.work, "ingest.err"))
        killed = kill_at(process, self.delay("ingest"))
        with open(out) as file:
            finished = sum(1 for line in file if ": " in line and " records (" in line)
        if not killed and process.returncode != 0:
            self.violation(name, "ingest failed uncut (%d)" % process.returncode)
        self.check_integrity("bulk", name)
        count = database.papers()
        allowed = {self.cumulative[max(held, finished)],
                   self.cumulative[min(len(self.parts), max(held, finished + 1))]}
        if count not in allowed:
            self.violation(name, "%d papers after the kill, %d files committed: expected one of %s"
                           % (count, finished, sorted(allowed)))
        done = bulk.run("ingest", *self.parts, check=False)
        if done.returncode != 0:
            self.violation(name, "re-ingest failed: %s" % done.stderr[-500:])
        full = database.scalar("SELECT count(*) FROM papers")
        if full != self.cumulative[-1]:
            self.violation(name, "re-ingest holds %d papers, not %d" % (full, self.cumulative[-1]))
        self.check_integrity("bulk", name)
        self.bulk_parts = len(self.parts)
        return killed, "%d of %d files committed before the kill, %d papers" % (
            finished, len(self.parts), count)

    def round_index(self, name):
        site = self.papers("site")
        database = self.database("site")
        reindex = self.random.random() < 0.3
        if reindex:
            kind, args = "reindex", ("reindex",)
        else:
            self.add_index_batch(site)
            kind, args = "index", ("index",)
        process = site.start(*args, stdout_path=os.path.join(self.work, "index.out"),
                             stderr_path=os.path.join(self.work, "index.err"))
        killed = kill_at(process, self.delay(kind))
        self.check_integrity("site", name)
        # The claim died with the process: a new run takes it and finishes.
        done = site.run("index", check=False)
        if done.returncode != 0:
            self.violation(name, "index after the kill failed: %s" % done.stderr[-500:])
            return killed, kind
        self.check_index(name, database)
        return killed, kind

    def check_index(self, name, database):
        papers = database.scalar("SELECT count(*) FROM papers")
        unembedded = database.scalar(
            "SELECT count(*) FROM papers p WHERE NOT EXISTS "
            "(SELECT 1 FROM embeddings e WHERE e.paper_key = p.key)")
        models = database.scalar("SELECT count(DISTINCT model) FROM embeddings")
        if unembedded or models != 1:
            self.violation(name, "%d of %d papers without a vector, vectors of %d models"
                           % (unembedded, papers, models))
        documents = lexical_documents(os.path.join(self.work, "site", "index", "lexical"))
        if documents != papers:
            self.violation(name, "%d papers but the lexical index holds %s" % (papers, documents))
        site = self.papers("site")
        sample = database.rows("SELECT id, title FROM papers ORDER BY random() LIMIT 4")
        for paper_id, title in sample:
            words = " ".join(re.findall(r"[A-Za-z]{3,}", title)[:8])
            if not words:
                continue
            for mode in ("lexical", "hybrid"):
                done = site.run("search", "--mode", mode, "--limit", "20", "--json", words,
                                check=False)
                if done.returncode != 0:
                    self.violation(name, "search failed: %s" % done.stderr[-300:])
                    continue
                if '"%s"' % paper_id not in done.stdout:
                    self.violation(name, "%s search for %r misses %s" % (mode, words, paper_id))

    def round_digest(self, name):
        site = self.papers("site")
        emails = self.add_subscribers("site")
        process = self.digest_command(site)
        killed = kill_at(process, self.delay("digest"))
        self.check_integrity("site", name)
        resumed = self.digest_command(site)
        resumed.wait()
        if resumed.returncode != 0:
            with open(os.path.join(self.work, "digest.out")) as file:
                self.violation(name, "digest send after the kill failed: %s" % file.read()[-500:])
        repeated = self.check_digest_mail(emails, kills=1 if killed else 0, kind=name)
        stuck = self.database("site").scalar(
            "SELECT count(*) FROM digest_sends WHERE state <> 'sent'")
        if stuck:
            self.violation(name, "%d digest sends left unfinished" % stuck)
        return killed, "%d repeated" % repeated

    def round_serve(self, name):
        site = self.papers("site")
        database = self.database("site")
        port = free_port()
        process = site.start("serve", "--addr", "127.0.0.1:%d" % port,
                             stdout_path=os.path.join(self.work, "serve.out"),
                             stderr_path=os.path.join(self.work, "serve.err"))
        base = "http://127.0.0.1:%d" % port
        if not wait_until_up(base, process):
            self.violation(name, "serve did not start")
            process.kill()
            process.wait()
            return False, ""
        ids = [row[0] for row in database.rows(
            "SELECT id FROM papers ORDER BY random() LIMIT 400")]
        unfed = [row[0] for row in database.rows(
            "SELECT id FROM papers WHERE feed_day IS NULL ORDER BY random() LIMIT 60")]
        writers = [Writer(base, "c%dr%du%d" % (os.getpid() % 1000, self.rounds, n),
                          ids[n::3], unfed[n::3]) for n in range(3)]
        threads = [threading.Thread(target=writer.run, daemon=True) for writer in writers]
        for thread in threads:
            thread.start()
        killed = kill_at(process, self.random.uniform(0.5, 6.0))
        for writer in writers:
            writer.stop = True
        for thread in threads:
            thread.join(timeout=30)
        self.check_integrity("site", name)
        acknowledged = sum(len(writer.votes) for writer in writers)
        for writer in writers:
            self.check_writer(name, database, writer)
        drift = database.rows(
            "SELECT p.id, p.member_upvotes, count(v.user_id) FROM papers p "
            "LEFT JOIN votes v ON v.paper_key = p.key GROUP BY p.key, p.id, p.member_upvotes "
            "HAVING p.member_upvotes <> count(v.user_id)")
        if drift:
            self.violation(name, "member_upvotes differs from vote rows: %s" % drift[:5])
        # The restarted server answers, and the sessions made before the kill still work.
        again = site.start("serve", "--addr", "127.0.0.1:%d" % port,
                           stdout_path=os.path.join(self.work, "serve.out"),
                           stderr_path=os.path.join(self.work, "serve2.err"))
        try:
            if not wait_until_up(base, again):
                self.violation(name, "serve did not restart")
            else:
                for writer in writers:
                    if writer.csrf and not writer.still_logged_in():
                        self.violation(name, "%s lost their session" % writer.username)
        finally:
            again.terminate()
            again.wait()
        return killed, "%d acknowledged votes, %d submissions" % (
            acknowledged, sum(len(writer.submitted) for writer in writers))

    def check_writer(self, name, database, writer):
        if not writer.user_known:
            return
        stored = {row[0] for row in database.rows(
            "SELECT p.id FROM votes v JOIN users u ON u.id = v.user_id "
            "JOIN papers p ON p.key = v.paper_key WHERE u.username = ?", (writer.username,))}
        lost = [paper for paper in writer.votes if paper not in stored]
        if lost:
            self.violation(name, "%s: acknowledged votes lost: %s" % (writer.username, lost))
        if len(writer.votes) != len(set(writer.votes)):
            self.violation(name, "%s: a vote acknowledged twice" % writer.username)
        unasked = stored - set(writer.attempted)
        if unasked:
            self.violation(name, "%s: votes never sent: %s" % (writer.username, sorted(unasked)))
        # An upvote asked for but not acknowledged (in flight at the kill) may be either.
        for paper in writer.submitted:
            by = database.rows("SELECT submitted_by, feed_day FROM papers WHERE id = ?", (paper,))
            if not by or by[0][0] != writer.username or not by[0][1]:
                self.violation(name, "%s: acknowledged submission of %s is %s" % (
                    writer.username, paper, by))

    # ---- the campaign -------------------------------------------------------------

    def run(self):
        try:
            self.prepare()
            self.rounds_until_done()
        except Stopped:
            log("crash: stopped by a signal after %d rounds" % self.rounds)
        finally:
            if getattr(self, "smtp", None) is not None:
                self.smtp.terminate()
                self.smtp.wait()
        log("kills by kind: %s; rounds %d" % (self.kills_by_kind, self.rounds))
        for text in self.violations:
            log("violation: " + text)
        log("crash: %d kills, %d invariant violations" % (self.kills, len(self.violations)))
        return 0 if not self.violations and self.kills >= self.arguments.kills else 1

    def rounds_until_done(self):
        kinds = ["ingest", "index", "digest", "serve"]
        handlers = {"ingest": self.round_ingest, "index": self.round_index,
                    "digest": self.round_digest, "serve": self.round_serve}
        target = self.arguments.kills
        while self.kills < target and self.rounds < 3 * target:
            self.rounds += 1
            kind = kinds[(self.rounds - 1) % len(kinds)] if self.rounds <= len(kinds) \
                else self.random.choice(kinds)
            name = "round %d (%s)" % (self.rounds, kind)
            started = time.monotonic()
            try:
                killed, detail = handlers[kind](name)
            except Exception as error:  # a broken round is a finding, not a stop
                self.violation(name, "round failed: %r" % error)
                killed, detail = False, ""
            if killed:
                self.kills += 1
                self.kills_by_kind[kind] = self.kills_by_kind.get(kind, 0) + 1
            elif kind in self.estimate:
                # It finished before the kill: aim earlier next time.
                self.estimate[kind] = max(0.1, self.estimate[kind] * 0.8)
            log("%s: %s in %.1fs; %s" % (
                name, "killed" if killed else "finished first", time.monotonic() - started, detail))


class Stopped(BaseException):
    """SIGTERM or SIGINT: end the campaign with the figures so far."""


def stop(*_):
    raise Stopped()


def lexical_documents(directory):
    """Live documents in a tantivy index, from its meta.json (what a reader would see)."""
    try:
        with open(os.path.join(directory, "meta.json")) as file:
            meta = json.load(file)
    except OSError as error:
        return "unreadable (%s)" % error
    total = 0
    for segment in meta.get("segments", []):
        deletes = segment.get("deletes") or {}
        total += segment["max_doc"] - deletes.get("num_deleted_docs", 0)
    return total


def wait_until_up(base, process, seconds=120):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            return False
        try:
            with urllib.request.urlopen(base + "/api/openapi.json", timeout=5) as reply:
                if reply.status == 200:
                    return True
        except (urllib.error.URLError, OSError):
            time.sleep(0.1)
    return False


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Writer:
    """A member who signs up, then upvotes and submits papers until told to stop or the
    server goes away, logging every write the server acknowledged."""

    def __init__(self, base, username, ids, unfed):
        self.base = base
        self.username = username
        self.ids = ids
        self.unfed = unfed
        self.stop = False
        self.user_known = False
        self.csrf = None
        self.attempted = []
        self.votes = []
        self.submitted = []
        self.cookies = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.cookies), NoRedirect)

    def request(self, path, data=None, headers=None):
        body = None if data is None else (
            data if isinstance(data, bytes) else urllib.parse.urlencode(data).encode())
        request = urllib.request.Request(self.base + path, data=body, headers=headers or {})
        try:
            with self.opener.open(request, timeout=30) as reply:
                return reply.status, reply.read().decode("utf-8", "replace"), reply.headers
        except urllib.error.HTTPError as error:
            return error.code, error.read().decode("utf-8", "replace"), error.headers

    def csrf_in(self, html):
        match = re.search(r'name="csrf" value="([^"]+)"', html)
        return match.group(1) if match else None

    def run(self):
        try:
            self.work()
        except (urllib.error.URLError, OSError, ConnectionError):
            pass  # the server was killed

    def work(self):
        status, page, _ = self.request("/signup")
        token = self.csrf_in(page)
        status, _, _ = self.request("/signup", {
            "csrf": token, "username": self.username,
            "email": self.username + "@example.org", "password": "correct-horse-battery"})
        if status != 303:
            return
        self.user_known = True
        status, page, _ = self.request("/submit")
        self.csrf = self.csrf_in(page)
        ids = list(self.ids)
        unfed = list(self.unfed)
        step = 0
        while not self.stop and (ids or unfed):
            step += 1
            if step % 5 == 0 and unfed:
                paper = unfed.pop()
                status, _, headers = self.request("/submit", {"csrf": self.csrf, "reference": paper})
                if status == 303 and headers.get("Location", "").startswith("/papers/"):
                    self.submitted.append(paper)
                continue
            if not ids:
                break
            paper = ids.pop()
            self.attempted.append(paper)
            status, body, _ = self.request(
                "/api/papers/%s/upvote" % paper, b"",
                {"X-CSRF-Token": self.csrf})
            if status == 200 and json.loads(body).get("upvoted") is True:
                self.votes.append(paper)
            elif status == 429:
                time.sleep(1)

    def still_logged_in(self):
        status, page, _ = self.request("/submit")
        return status == 200 and self.csrf_in(page) == self.csrf


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--kills", type=int, default=100)
    parser.add_argument("--seed", type=int, default=int(time.time()))
    parser.add_argument("--engine", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--database-url", help="an administrative PostgreSQL URL")
    parser.add_argument("--ingest-records", type=int, default=40000)
    parser.add_argument("--ingest-parts", type=int, default=4)
    parser.add_argument("--index-batch", type=int, default=20)
    arguments = parser.parse_args()
    if arguments.engine == "postgres" and not arguments.database_url:
        parser.error("--engine postgres needs --database-url")
    log("crash: seed %d, engine %s, %d kills wanted" % (
        arguments.seed, arguments.engine, arguments.kills))
    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    sys.exit(Campaign(arguments).run())


if __name__ == "__main__":
    main()
