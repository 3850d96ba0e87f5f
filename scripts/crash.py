"""The crash campaign behind scripts/crash.sh: SIGKILL `papers` at random moments and
check, after each kill, that nothing a finished transaction committed was lost.

Each round starts one of
  ingest  `papers ingest` of the large Kaggle-format archive, split into parts (one
          transaction per file, so the parts give several commit points to kill between)
  index   `papers index` after a fresh batch of papers (embedding, then catch-up), or
          `papers reindex`
  digest  `papers digest send` to fresh confirmed subscribers, over the real SMTP
          server the tests use (crates/digest/tests/smtp_server.py)
  harvest `papers serve --harvest arxiv:cs` on an empty store, paging through a recorded
          OAI-PMH list (real arXiv records, served on 127.0.0.1 by
          crates/papers/tests/oai_server.py)
  serve   `papers serve` while logged-in members vote, comment, save papers to a
          collection and submit stored papers through the site's API and forms
kills it with SIGKILL at a random moment, then restarts the work and checks:
  integrity   PRAGMA integrity_check is ok (SQLite)
  committed   every file whose ingest finished is in the store, no file is half there,
              and re-running the ingest reaches the full count
  index       after `papers index` the lexical index holds exactly the store's papers,
              every paper has a vector, and sampled titles are found by `papers search`
  harvest     the store holds exactly the records of the pages committed before the
              kill (whole pages, each record once), the stored position names the next
              page's resumption token (or the next day once the list was complete), the
              restarted serve asks for that page first and never again for a committed
              one, and ends with every record of the list stored once
  votes       every acknowledged upvote is stored exactly once, nothing unasked is,
              every paper's member_upvotes equals its vote rows, acknowledged
              submissions are stored
  community   every acknowledged comment is stored once with its text and author, no
              comment the member did not send is, and every acknowledged collection
              entry is in the member's collection
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
# The recorded OAI-PMH list of the harvest rounds: real arXiv records, listed from
# HARVEST_FROM with the next day as the server's day, in pages of HARVEST_PAGE.
HARVEST_FROM = "2021-02-01"
HARVEST_NEXT = "2021-02-02"
HARVEST_TOKEN = "crash"
HARVEST_PAGE = 100
HARVEST_JOB = "harvest:arxiv:cs"


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

        self.prepare_harvest(archive)

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

    def prepare_harvest(self, archive):
        """The recorded OAI-PMH list and its server, and one uncut harvest of it to time
        the kills by (and to check the round's own expectations once)."""
        self.recorded = os.path.join(self.work, "recorded")
        os.makedirs(self.recorded, exist_ok=True)
        with open(os.path.join(self.recorded, "today"), "w") as file:
            file.write(HARVEST_NEXT)
        pages = os.path.join(os.path.dirname(os.path.abspath(__file__)), "../bench/harvest_pages.py")
        # Records past the ingest parts and the index batches: none of them is in a
        # round's store before its harvest.
        skip = self.arguments.ingest_records + 400 * self.arguments.index_batch + 1000
        ids = subprocess.run(
            [sys.executable, pages, archive, self.recorded, str(skip),
             str(self.arguments.harvest_records), str(HARVEST_PAGE), HARVEST_FROM,
             HARVEST_NEXT, HARVEST_TOKEN],
            check=True, capture_output=True, text=True).stdout.split()
        self.harvest_pages = [ids[i:i + HARVEST_PAGE] for i in range(0, len(ids), HARVEST_PAGE)]
        server = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                              "../crates/papers/tests/oai_server.py")
        self.oai = subprocess.Popen([sys.executable, server, self.recorded],
                                    stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        self.oai_url = "http://127.0.0.1:%s/oai" % self.oai.stdout.readline().split()[1]
        violations = len(self.violations)
        self.fresh_store("harvest")
        serve = self.harvest_serve("harvest-setup.err")
        try:
            self.wait_for_first_request(0, serve)
            started = time.monotonic()
            self.wait_for_harvest("setup", serve)
        finally:
            serve.terminate()
            serve.wait()
        # The kills aim at the paging, from the list's first request on.
        self.estimate["harvest"] = time.monotonic() - started
        # The archive holds ids it mangled (trailing zeros lost: "1208.027"; about
        # 40% of these records), which the harvester rightly skips: each page's
        # records are those it keeps.
        kept = {row[0] for row in self.database("harvest").rows("SELECT id FROM papers")}
        skipped = len(ids) - len(kept)
        if not kept <= set(ids) or len(kept) < len(ids) // 4:
            raise RuntimeError("the uncut harvest kept %d of %d records, %d unknown" % (
                len(kept), len(ids), len(kept - set(ids))))
        self.harvest_pages = [[paper for paper in page if paper in kept]
                              for page in self.harvest_pages]
        self.check_harvested("setup", len(self.harvest_pages), during="uncut")
        if len(self.violations) > violations:
            raise RuntimeError("the uncut harvest already breaks the invariants")
        log("setup: a harvest of %d records (%d skipped as invalid) in %d pages took %.1fs" % (
            len(ids), skipped, len(self.harvest_pages), self.estimate["harvest"]))

    def harvest_serve(self, stderr_name):
        """`papers serve --harvest arxiv:cs` on the harvest store, from the recorded list."""
        harvest = self.papers("harvest")
        harvest.env = dict(harvest.env, PAPERS_MODEL=os.path.join(self.work, "no-model"))
        return harvest.start(
            "serve", "--addr", "127.0.0.1:%d" % free_port(), "--harvest", "arxiv:cs",
            "--harvest-since", HARVEST_FROM, "--arxiv-oai-url", self.oai_url,
            "--harvest-request-delay-ms", "0", "--harvest-retry-delay", "1s",
            stdout_path=os.path.join(self.work, "harvest.out"),
            stderr_path=os.path.join(self.work, stderr_name))

    def wait_for_harvest(self, name, serve, seconds=600):
        """Waits for the harvest job's first success in the store."""
        database = self.database("harvest")
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            if serve.poll() is not None:
                raise RuntimeError("the harvesting serve exited (%d)" % serve.returncode)
            try:
                if database.papers() is not None and self.harvest_succeeded(database):
                    return
            except (sqlite3.Error, subprocess.CalledProcessError):
                pass  # the serve is still creating the store
            time.sleep(0.1)
        raise RuntimeError("%s: no successful harvest in %d s" % (name, seconds))

    def requests_logged(self):
        try:
            with open(os.path.join(self.recorded, "requests.log")) as file:
                return len(file.readlines())
        except FileNotFoundError:
            return 0

    def wait_for_first_request(self, before, serve, seconds=120):
        """Waits until the recorded server has a request beyond the first `before`."""
        deadline = time.monotonic() + seconds
        while self.requests_logged() <= before:
            if serve.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the serve asked for no page")
            time.sleep(0.01)

    def harvest_succeeded(self, database):
        tables = database.rows(
            "SELECT count(*) FROM sqlite_master WHERE name = 'job_runs'"
            if self.arguments.engine == "sqlite" else
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'job_runs'")
        return int(tables[0][0]) and database.scalar(
            "SELECT count(*) FROM job_runs WHERE job = ? AND outcome = 'ok'", (HARVEST_JOB,))

    def harvest_position(self, database):
        """(next_from, resumption_token) of the stored position, or None."""
        if self.arguments.engine == "sqlite" and not os.path.exists(database.path()):
            return None
        if not self.harvest_state_table(database):
            return None
        rows = database.rows(
            "SELECT next_from, resumption_token FROM harvest_state WHERE name = 'arxiv:cs'")
        return (rows[0][0] or None, rows[0][1] or None) if rows else None

    def harvest_state_table(self, database):
        tables = database.rows(
            "SELECT count(*) FROM sqlite_master WHERE name = 'harvest_state'"
            if self.arguments.engine == "sqlite" else
            "SELECT count(*) FROM information_schema.tables WHERE table_name = 'harvest_state'")
        return int(tables[0][0])

    def check_harvested(self, name, committed=None, during="after the kill"):
        """The store holds whole pages, each record once, and its position agrees:
        returns how many pages were committed (`committed` asserts the number)."""
        database = self.database("harvest")
        stored = [row[0] for row in database.rows("SELECT id FROM papers")] \
            if database.papers() else []
        if len(stored) != len(set(stored)):
            self.violation(name, "%s: a record stored twice" % during)
        stored = set(stored)
        full = 0
        while full < len(self.harvest_pages) and set(self.harvest_pages[full]) <= stored:
            full += 1
        expected = {paper for page in self.harvest_pages[:full] for paper in page}
        if stored != expected:
            extra = sorted(stored - expected)
            self.violation(name, "%s: the store holds part of a page: %d papers beyond the %d "
                           "whole pages, e.g. %s" % (during, len(extra), full, extra[:3]))
        # Pages whose records were all skipped leave no trace but the position: any
        # count from the last page with records up to `full` fits what is stored.
        low = full
        while low > 0 and not self.harvest_pages[low - 1]:
            low -= 1
        position = self.harvest_position(database)
        if position is None or (position[1] is None and position[0] is None):
            pages = 0
        elif position[1] is None:
            pages = {HARVEST_FROM: 0, HARVEST_NEXT: len(self.harvest_pages)}.get(position[0], -1)
        elif position[1].startswith(HARVEST_TOKEN + "|") and position[1].split("|")[1].isdigit():
            pages = int(position[1].split("|")[1])
        else:
            pages = -1
        if not low <= pages <= full:
            self.violation(name, "%s: pages 1 to %d stored (or to %d) but the position is %s" % (
                during, full, low, position))
            pages = full
        if committed is not None and pages != committed:
            self.violation(name, "%s: %d of %d pages stored" % (during, pages, committed))
        return pages

    def round_harvest(self, name):
        self.fresh_store("harvest")
        log_path = os.path.join(self.recorded, "requests.log")
        requested = self.requests_logged()
        process = self.harvest_serve("harvest.err")
        try:
            self.wait_for_first_request(requested, process)
        except RuntimeError:
            process.kill()
            process.wait()
            raise
        killed = kill_at(process, self.random.uniform(0, 1.2 * self.estimate["harvest"]))
        if not killed:
            self.violation(name, "the harvesting serve exited by itself (%s)" % process.returncode)
            return False, ""
        self.check_integrity("harvest", name)
        pages = self.check_harvested(name)
        finished = bool(self.harvest_succeeded(self.database("harvest"))) \
            if pages == len(self.harvest_pages) else False
        with open(log_path) as file:
            before = len(file.readlines())
        serve = self.harvest_serve("harvest2.err")
        try:
            self.wait_for_harvest(name, serve)
        finally:
            serve.terminate()
            serve.wait()
        with open(log_path) as file:
            after = [line.split("\t")[0] for line in file.readlines()[before:]]
        # What each page's request says: the first page by its day, the others by token.
        def asks_for(request, page):
            if page == 0:
                return "from=%s" % HARVEST_FROM in request
            token = "%s|%d" % (HARVEST_TOKEN, page)
            query = urllib.parse.unquote(request.split("?", 1)[-1])
            return "resumptionToken=" + token in query.split("&")
        if 0 < pages < len(self.harvest_pages):
            ok = bool(after) and asks_for(after[0], pages)
        elif finished:
            # The run recorded its success before the kill: the next is a day away.
            ok = not after or "from=%s" % HARVEST_NEXT in after[0]
        elif pages:
            ok = bool(after) and "from=%s" % HARVEST_NEXT in after[0]
        else:
            ok = bool(after) and asks_for(after[0], 0)
        if not ok:
            self.violation(name, "%d pages committed, but the restart asked first for %s" % (
                pages, after[:1]))
        again = [request for request in after for page in range(pages)
                 if asks_for(request, page)]
        if again:
            self.violation(name, "the restart fetched committed pages again: %s" % again[:3])
        self.check_integrity("harvest", name)
        self.check_harvested(name, len(self.harvest_pages), during="after the restart")
        return killed, "%d of %d pages committed before the kill, %d requests after" % (
            pages, len(self.harvest_pages), len(after))

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
        # The stored papers are years old: no submission window, so they can be sent.
        process = site.start("serve", "--addr", "127.0.0.1:%d" % port,
                             "--submit-max-age-days", "0",
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
        return killed, "%d acknowledged votes, %d submissions, %d comments, %d saves" % (
            acknowledged, sum(len(writer.submitted) for writer in writers),
            sum(len(writer.comments) for writer in writers),
            sum(len(writer.saved) for writer in writers))

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
        self.check_community(name, database, writer)
        # An upvote asked for but not acknowledged (in flight at the kill) may be either.
        for paper in writer.submitted:
            by = database.rows("SELECT submitted_by, feed_day FROM papers WHERE id = ?", (paper,))
            if not by or by[0][0] != writer.username or not by[0][1]:
                self.violation(name, "%s: acknowledged submission of %s is %s" % (
                    writer.username, paper, by))

    def check_community(self, name, database, writer):
        """Acknowledged comments and collection entries are there once; nothing unsent."""
        stored = database.rows(
            "SELECT c.id, p.id, c.body FROM comments c JOIN users u ON u.id = c.user_id "
            "JOIN papers p ON p.key = c.paper_key WHERE u.username = ?", (writer.username,))
        by_id = {int(row[0]): (row[1], row[2]) for row in stored}
        for comment, (paper, text) in writer.comments.items():
            if by_id.get(int(comment)) != (paper, text):
                self.violation(name, "%s: acknowledged comment %s on %s is %s" % (
                    writer.username, comment, paper, by_id.get(int(comment))))
        bodies = [row[2] for row in stored]
        doubled = sorted({text for text in bodies if bodies.count(text) > 1})
        if doubled:
            self.violation(name, "%s: comments stored twice: %s" % (writer.username, doubled[:3]))
        unsent = sorted(set(bodies) - set(writer.comments_sent))
        if unsent:
            self.violation(name, "%s: comments never sent: %s" % (writer.username, unsent[:3]))
        if writer.collection is None:
            return
        entries = [row[0] for row in database.rows(
            "SELECT p.id FROM collection_papers cp JOIN papers p ON p.key = cp.paper_key "
            "WHERE cp.collection_id = ?", (writer.collection,))]
        lost = sorted(set(writer.saved) - set(entries))
        if lost:
            self.violation(name, "%s: acknowledged collection entries lost: %s" % (
                writer.username, lost[:5]))
        if len(entries) != len(set(entries)):
            self.violation(name, "%s: a collection entry stored twice" % writer.username)
        unsent = sorted(set(entries) - set(writer.saves_sent))
        if unsent:
            self.violation(name, "%s: collection entries never sent: %s" % (
                writer.username, unsent[:5]))

    # ---- the campaign -------------------------------------------------------------

    def run(self):
        try:
            self.prepare()
            self.rounds_until_done()
        except Stopped:
            log("crash: stopped by a signal after %d rounds" % self.rounds)
        finally:
            for server in (getattr(self, "smtp", None), getattr(self, "oai", None)):
                if server is not None:
                    server.terminate()
                    server.wait()
        log("kills by kind: %s; rounds %d" % (self.kills_by_kind, self.rounds))
        for text in self.violations:
            log("violation: " + text)
        log("crash: %d kills, %d invariant violations" % (self.kills, len(self.violations)))
        return 0 if not self.violations and self.kills >= self.arguments.kills else 1

    def rounds_until_done(self):
        kinds = ["ingest", "index", "digest", "serve", "harvest"]
        handlers = {"ingest": self.round_ingest, "index": self.round_index,
                    "digest": self.round_digest, "serve": self.round_serve,
                    "harvest": self.round_harvest}
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
    """A member who signs up, then upvotes, comments on, saves to a collection and
    submits papers until told to stop or the server goes away, logging every write the
    server acknowledged."""

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
        self.comments_sent = []  # bodies of every comment posted, acknowledged or not
        self.comments = {}  # acknowledged: comment id -> (paper, body)
        self.collection = None
        self.saves_sent = []
        self.saved = []  # acknowledged collection entries (paper ids)
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
        # Signing up answers "check your inbox" (200); the member then logs in.
        if status not in (200, 303):
            return
        self.user_known = True
        status, page, _ = self.request("/login")
        status, _, _ = self.request("/login", {
            "csrf": self.csrf_in(page), "username": self.username,
            "password": "correct-horse-battery"})
        if status != 303:
            return
        status, page, _ = self.request("/submit")
        self.csrf = self.csrf_in(page)
        json_headers = {"X-CSRF-Token": self.csrf, "Content-Type": "application/json"}
        status, body, _ = self.request(
            "/api/collections", json.dumps({"title": "Crash " + self.username}).encode(),
            json_headers)
        if status == 201:
            self.collection = json.loads(body)["id"]
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
            if step % 7 == 0 and ids:
                paper = ids[-1]
                text = "Crash comment %d by %s." % (step, self.username)
                self.comments_sent.append(text)
                status, body, _ = self.request(
                    "/api/papers/%s/comments" % paper, json.dumps({"body": text}).encode(),
                    json_headers)
                if status == 201:
                    self.comments[json.loads(body)["id"]] = (paper, text)
                continue
            if step % 4 == 0 and ids and self.collection is not None:
                paper = ids[(step // 4) % len(ids)]
                self.saves_sent.append(paper)
                status, _, _ = self.request(
                    "/api/collections/%s/papers" % self.collection,
                    json.dumps({"id": paper}).encode(), json_headers)
                if status in (200, 201):
                    self.saved.append(paper)
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
    parser.add_argument("--harvest-records", type=int, default=2000)
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
