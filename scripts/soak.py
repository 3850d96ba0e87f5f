"""The soak behind scripts/soak.sh: hold `papers serve` under a steady mixed load for a
number of minutes, with a background harvest and digest runs, and watch its memory,
open files and latency.

Set-up: a SQLite store seeded from the shared data (the recorded Hugging Face days,
the Kaggle sample and the first N papers of the 2020 arXiv archive), indexed with the
model; members with personal access tokens (`papers user create`, `papers token
create`); confirmed digest subscribers; a recorded OAI-PMH server on 127.0.0.1
(crates/papers/tests/oai_server.py) and the real SMTP server of the digest tests.

The load (aiohttp, one client session per member and one for anonymous readers):
  reads    anonymous feed, trending, "new" and paper pages, /api/daily_papers,
           /api/papers/{id}, /api/papers/{id}/similar, and searches (page and API),
           issued open-loop at a fixed rate: half the peak that a calibration phase
           (the same read mix, closed-loop on SOAK_CONNECTIONS connections, 20 s)
           measures, on at most twice SOAK_CONNECTIONS connections (as a reverse
           proxy's pool would hold). Latency counts from the moment a request was
           due, so a stall of the server shows in the p99 rather than slowing the
           load down.
  writes   every member, at a steady pace under the site's per-member limits:
           an upvote toggle every 2 s (the vote limit is 60 a minute), a comment every
           20 s, a save to their collection every 10 s, a submission of a stored paper
           every 30 s (the comment and submission limits are raised for the soak).
  harvest  `papers serve --harvest arxiv:cs` every 30 s against the recorded server,
           to which a new day of 200 real arXiv records is added every minute; their
           embedding runs in the server's background, as on a real node.
  digest   `papers digest send --as-of DAY` for a new recorded day every two minutes,
           to the subscribers, over SMTP.
An error is a request that fails to connect or answers anything but the expected
status (5xx, a 4xx, a 429), a harvest or digest run that fails, or a panic in the
server's log.

The short bench: before the soak, the same load (reads at the soak's rate and the
members' writes) for 30 s on the server the calibration just warmed up; its p99 is
what the soak's is compared with (the issue's goal: within 2x).

Every 10 s: requests, errors, rate, p99 of the window, RSS (and its anonymous part,
the heap, as opposed to mapped index files) and open files of the server, and each of
its in-memory caches from /metrics (entries and bytes against their bounds, and how
many times it was full). Warm-up ends at the first sample by which every cache that
reached its bound during the run had done so (a cache fills to its bound and then
stays there; growth before that is warm-up, growth after it is not); RSS growth is
counted from there, from the lowest RSS of the first minute to the lowest of the last
(single samples swing by 20-30 MB with the background work; both are shown). A cache
that never reached its bound is named, with its size.
Every request slower than 100 ms goes to WORK/slow.log with the wall-clock time it
answered, and each sample line starts with the wall-clock time, to line a slow window
up with the server's log (WORK/serve.log; PAPERS_LOG=papers::search_service=debug adds
how long each index batch held the searcher, papers::memory=debug the memory in use
and the resident memory not in use, what the allocator keeps, every 10 s). Each sample
line also counts the window's requests over 100 ms by the server's own clock (its
latency histogram in /metrics): many by the driver's clock and few by the server's
means a stall before the handlers, the driver's own among them. The driver's garbage
collections of 20 ms or more go to slow.log too; the set-up's objects are frozen out
of the collector's sight, since walking them paused the driver for up to 256 ms.
Then the fresh server (skipped with --no-fresh): the soaked server is stopped and a new
one started on the data it left, under the same reads, writes and harvests for the
soak's warm-up and two minutes more. The trough of its last minute against the soaked server's last
minute says how much of the growth ten minutes of serving left behind in the process
(a leak, fragmentation), as opposed to the papers, vectors, comments and votes the
soak added, which the fresh server holds too.
The last line: `soak: R requests, E errors, p99 X ms, RSS start S MB end T MB`, S
being the RSS at the end of the warm-up.

Usage: python3 scripts/soak.py --papers BIN --work DIR --minutes M [--records N]
       [--connections C] [--seed-cache DIR] [--hold SECONDS] [--no-fresh]
"""

import argparse
import asyncio
import datetime
import gc
import gzip
import json
import os
import random
import re
import shutil
import socket
import sqlite3
import subprocess
import sys
import time

import aiohttp

MEMBERS = 12
SUBSCRIBERS = 40
HARVEST_DAY_RECORDS = 200
SHORT_BENCH_SECONDS = 30
# The goals.
MAX_RSS_GROWTH = 0.10
MAX_P99_RATIO = 2.0
# Requests slower than this go to WORK/slow.log with the wall-clock time they
# answered, to line up with the server's log (serve.log) when tracing a slow window.
SLOW_MS = 100
METRIC = re.compile(r'^(papers_cache_[a-z_]+)\{cache="([a-z_]+)"\} ([0-9.e+]+)$')
# The server's own request timings: a bucket of its latency histogram, per route.
LATENCY_BUCKET = re.compile(
    r'^papers_http_request_duration_seconds_bucket\{.*le="([^"]+)"\} ([0-9.e+]+)$')
# A pause of the driver's garbage collector at least this long goes to slow.log: the
# driver times requests from when they were due, so its own stalls count against the
# server unless they are told apart.
GC_PAUSE_MS = 20
# Triples of these make the searches: 195,112 of them, so nearly every search is new
# to the response cache and to the server's 4,096 kept query vectors alike (pairs,
# 3,364 of them, were all kept after three minutes, and searches then cost the server
# almost nothing; real queries repeat less than that, if more than these).
WORDS = (
    "retrieval neural speech robot learning language graph query ranking model network "
    "image audio music semantic database software testing agent game brain recommendation "
    "search index parsing translation dialogue summarization question answering embedding "
    "clustering classification robust control planning motion vision signal compression "
    "privacy security optimization reinforcement bayesian inference topic entity knowledge "
    "citation code program verification transaction stream spatial temporal visualization"
).split()


def log(text):
    print(text, flush=True)


def free_port():
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def percentile(values, p):
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(round(p / 100 * (len(ordered) - 1))))]


class Soak:
    def __init__(self, arguments):
        self.arguments = arguments
        self.work = os.path.abspath(arguments.work)
        self.data = os.path.join(self.work, "data")
        self.shared = os.environ["PAPERS_SHARED"]
        self.root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        self.env = dict(os.environ)
        self.env.update({
            "PAPERS_SECRET": "soak-secret-0123456789abcdef0123456789",
            "PAPERS_MAIL_FROM": "Daily Papers <papers@papers.test>",
            "PAPERS_PUBLIC_URL": "http://papers.test",
            "HF_HUB_OFFLINE": "1",
            "NO_COLOR": "1",
        })
        for name in ("PAPERS_DATABASE_URL", "PAPERS_SMTP_URL", "PAPERS_CONFIG", "PAPERS_HARVEST"):
            self.env.pop(name, None)
        self.random = random.Random(7)
        self.processes = []
        self.slow_log = None
        self.failures = []  # harvest, digest and set-up problems
        self.latencies = []  # (finish time, ms) of every request
        self.requests = 0
        self.errors = 0
        self.error_kinds = {}
        self.gc_pauses = []  # (wall-clock time, ms) of the driver's long collections
        self.server_slow = 0  # requests the server itself took over SLOW_MS for
        gc.callbacks.append(self.time_collection)

    def time_collection(self, phase, info):
        """Notes each collection of the driver's garbage collector that pauses it for
        GC_PAUSE_MS or more."""
        if phase == "start":
            self.collecting = time.monotonic()
            return
        took_ms = (time.monotonic() - getattr(self, "collecting", time.monotonic())) * 1000
        if took_ms >= GC_PAUSE_MS:
            self.gc_pauses.append((time.time(), took_ms))
            if self.slow_log:
                self.slow_log.write("%s %7.1f ms driver garbage collection (generation %d)\n" % (
                    datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S.%f")[:-3],
                    took_ms, info.get("generation", -1)))

    # ---- set-up -----------------------------------------------------------------

    def papers(self, *args, stdin=None):
        done = subprocess.run([self.arguments.papers, "--data-dir", self.data, *args],
                              env=self.env, input=stdin, capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError("papers %s failed: %s" % (" ".join(args), done.stderr[-1500:]))
        return done.stdout

    def database(self):
        return sqlite3.connect(os.path.join(self.data, "papers.sqlite3"), timeout=30)

    def prepare(self):
        os.makedirs(self.data, exist_ok=True)
        self.archive = os.path.join(
            self.shared, "data/arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz")
        seed = os.path.join(self.work, "seed.jsonl")
        with gzip.open(self.archive, "rt", encoding="utf-8") as source, \
                open(seed, "w", encoding="utf-8") as out:
            for _ in range(self.arguments.records):
                out.write(source.readline())
        days = os.path.join(self.shared, "data/hf-daily-papers-api/2023-11-to-2024-04")
        self.hf_days = sorted(name[-15:-5] for name in os.listdir(days) if name.endswith(".json"))
        started = time.monotonic()
        # Ingesting and embedding the seed takes minutes; a developer repeating short
        # soaks of one build can keep the seeded directory (SOAK_SEED_CACHE).
        cached = self.arguments.seed_cache and os.path.join(
            self.arguments.seed_cache, "seed-%d" % self.arguments.records)
        if cached and os.path.isfile(os.path.join(cached, "complete")):
            shutil.rmtree(self.data)
            shutil.copytree(os.path.join(cached, "data"), self.data)
            how = "copied from %s (ingested and indexed by an earlier run)" % cached
        else:
            how = "ingested and indexed"
            self.papers("ingest", "--skip-invalid", seed, days,
                        os.path.join(self.shared, "data/arxiv-kaggle-snapshot"))
            self.papers("index")
            if cached:
                shutil.rmtree(cached, ignore_errors=True)
                shutil.copytree(self.data, os.path.join(cached, "data"))
                open(os.path.join(cached, "complete"), "w").close()
        with self.database() as db:
            count = db.execute("SELECT count(*) FROM papers").fetchone()[0]
            self.unfed = [row[0] for row in db.execute(
                "SELECT id FROM papers WHERE feed_day IS NULL ORDER BY random() LIMIT 2000")]
            self.paper_ids = [row[0] for row in db.execute(
                "SELECT id FROM papers ORDER BY random() LIMIT 5000")]
            self.feed_ids = [row[0] for row in db.execute(
                "SELECT id FROM papers WHERE feed_day IS NOT NULL ORDER BY random() LIMIT 2000")]
        log("setup: %d papers %s in %.0fs" % (count, how, time.monotonic() - started))

        self.tokens = []
        for n in range(MEMBERS):
            name = "soak%02d" % n
            self.papers("user", "create", name, "--email", name + "@example.org",
                        "--password-stdin", stdin="correct-horse-battery\n")
            self.tokens.append(self.papers("token", "create", name).strip())
        with self.database() as db:
            for n in range(SUBSCRIBERS):
                db.execute(
                    "INSERT INTO subscriptions (email, frequency, categories, queries, status, "
                    "created_at, confirmed_at, token_nonce) VALUES (?, 'daily', '[]', '[]', "
                    "'confirmed', '2023-11-01T00:00:00Z', '2023-11-01T00:00:00Z', ?)",
                    ("reader%d@example.org" % n, "soak-nonce-%d" % n))

        # The recorded OAI-PMH server, its first day written before the serve starts.
        self.recorded = os.path.join(self.work, "recorded")
        os.makedirs(self.recorded)
        self.harvest_day = datetime.date(2021, 1, 4)
        self.harvest_skip = self.arguments.records
        self.harvested_ids = []
        self.add_harvest_day()
        oai = self.spawn([sys.executable, os.path.join(self.root, "crates/papers/tests/oai_server.py"),
                          self.recorded])
        self.oai_url = "http://127.0.0.1:%s/oai" % oai.stdout.readline().split()[1]

        self.mail = os.path.join(self.work, "mail")
        os.makedirs(self.mail)
        smtp_port = free_port()
        smtp = self.spawn([sys.executable, os.path.join(self.root, "crates/digest/tests/smtp_server.py"),
                           "--port", str(smtp_port), "--dir", self.mail])
        if smtp.stdout.readline().strip() != "READY":
            raise RuntimeError("the SMTP server did not start")
        self.smtp_url = "smtp://127.0.0.1:%d" % smtp_port

        self.port = free_port()
        self.base = "http://127.0.0.1:%d" % self.port
        self.server_log = os.path.join(self.work, "serve.log")
        self.slow_log = open(os.path.join(self.work, "slow.log"), "w", buffering=1)
        open(self.server_log, "w").close()
        self.start_server()

    def start_server(self):
        """`papers serve` on the data directory, its log appended to WORK/serve.log."""
        self.server = subprocess.Popen(
            [self.arguments.papers, "--data-dir", self.data, "serve",
             "--addr", "127.0.0.1:%d" % self.port,
             "--harvest", "arxiv:cs", "--harvest-since", str(datetime.date(2021, 1, 4)),
             "--harvest-request-delay-ms", "0", "--arxiv-interval", "30s",
             # The soak's members write more than the defaults allow a member an hour.
             "--comments-per-hour", "100000", "--submit-per-hour", "100000",
             "--submit-max-age-days", "0"],
            env=dict(self.env, PAPERS_ARXIV_OAI_URL=self.oai_url),
            stdout=subprocess.DEVNULL, stderr=open(self.server_log, "a"))
        self.processes.append(self.server)

    def spawn(self, command):
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL,
                                   text=True)
        self.processes.append(process)
        return process

    def add_harvest_day(self):
        """Writes the next recorded day: HARVEST_DAY_RECORDS new arXiv records listed
        from the current day, with the next day as the response date."""
        following = self.harvest_day + datetime.timedelta(days=1)
        out = subprocess.run(
            [sys.executable, os.path.join(self.root, "bench/harvest_pages.py"), self.archive,
             self.recorded, str(self.harvest_skip), str(HARVEST_DAY_RECORDS), "100",
             str(self.harvest_day), str(following), "soak%s" % self.harvest_day],
            check=True, capture_output=True, text=True).stdout.split()
        self.harvested_ids += out
        self.harvest_skip += HARVEST_DAY_RECORDS
        with open(os.path.join(self.recorded, ".today"), "w") as file:
            file.write(str(following))
        os.rename(os.path.join(self.recorded, ".today"), os.path.join(self.recorded, "today"))
        self.harvest_day = following

    def stop(self):
        for process in reversed(self.processes):
            if process.poll() is None:
                process.terminate()
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()

    # ---- the load -----------------------------------------------------------------

    def read_request(self):
        """One request of the read mix: (method, path, expected statuses)."""
        r = self.random.random()
        paper = self.random.choice(self.paper_ids)
        words = "+".join(self.random.choice(WORDS) for _ in range(3))
        if r < 0.20:
            return "/papers"
        if r < 0.25:
            return "/papers/trending"
        if r < 0.30:
            return "/new"
        if r < 0.50:
            return "/papers/" + paper
        if r < 0.60:
            return "/api/daily_papers?date=" + self.random.choice(self.hf_days)
        if r < 0.75:
            return "/api/papers/" + paper
        if r < 0.82:
            return "/api/papers/%s/similar?limit=6" % paper
        if r < 0.94:
            return "/api/papers/search?q=%s&limit=20" % words
        return "/search?q=" + words

    async def send(self, session, method, path, expect=(200,), due=None, body=None, headers=None):
        due = time.monotonic() if due is None else due
        try:
            async with session.request(method, self.base + path, json=body, headers=headers,
                                       allow_redirects=False) as reply:
                payload = await reply.read()
                status = reply.status
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError) as error:
            status, payload = type(error).__name__, b""
        finished = time.monotonic()
        self.requests += 1
        took_ms = (finished - due) * 1000
        self.latencies.append((finished, took_ms))
        if took_ms >= SLOW_MS and self.slow_log:
            # Wall-clock time of the answer, so the server log's events line up with it.
            self.slow_log.write("%s %7.1f ms %s %s\n" % (
                datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S.%f")[:-3],
                took_ms, method, path))
        if status not in expect:
            self.errors += 1
            kind = "%s %s" % (status, path.split("?")[0].rsplit("/", 1)[0] or path)
            self.error_kinds[kind] = self.error_kinds.get(kind, 0) + 1
            if self.error_kinds[kind] <= 3:
                log("  error: %s %s -> %s %s" % (method, path, status, payload[:200]))
            return None
        return payload

    async def calibrate(self, session, seconds=20):
        count = 0
        deadline = time.monotonic() + seconds

        async def worker():
            nonlocal count
            while time.monotonic() < deadline:
                await self.send(session, "GET", self.read_request())
                count += 1
        await asyncio.gather(*(worker() for _ in range(self.arguments.connections)))
        return count / seconds

    async def reads(self, session, rate, until):
        """Open loop: a request is due every 1/rate s whether the last one answered."""
        interval = 1.0 / rate
        due = time.monotonic()
        pending = set()
        while due < until:
            now = time.monotonic()
            if due > now:
                await asyncio.sleep(due - now)
            task = asyncio.ensure_future(self.send(session, "GET", self.read_request(), due=due))
            pending.add(task)
            task.add_done_callback(pending.discard)
            due += interval
        if pending:
            await asyncio.gather(*pending)

    async def member(self, n, until):
        headers = {"Authorization": "Bearer " + self.tokens[n]}
        rng = random.Random(n)
        async with aiohttp.ClientSession(headers=headers) as session:
            if n not in self.collections:
                made = await self.send(session, "POST", "/api/collections", expect=(201,),
                                       body={"title": "Soak %d" % n})
                self.collections[n] = json.loads(made)["id"] if made else None
            collection = self.collections[n]
            step = 0
            start = time.monotonic()
            while time.monotonic() < until:
                # One tick every 2 s, offset per member so the writes spread out.
                await asyncio.sleep(max(0.0, start + 2 * step + n * 0.16 - time.monotonic()))
                step += 1
                paper = rng.choice(self.feed_ids)
                await self.send(session, "POST", "/api/papers/%s/upvote" % paper)
                if step % 10 == 0:
                    await self.send(session, "POST", "/api/papers/%s/comments" % paper,
                                    expect=(201,), body={"body": "Soak comment %d by %d." % (step, n)})
                if step % 5 == 0 and collection is not None:
                    await self.send(session, "POST", "/api/collections/%s/papers" % collection,
                                    expect=(200, 201), body={"id": rng.choice(self.paper_ids)})
                if step % 15 == 0 and self.unfed:
                    await self.send(session, "POST", "/api/papers/submit", expect=(200, 201),
                                    body={"id": self.unfed.pop()})

    async def harvest_days(self, until):
        while time.monotonic() + 60 < until:
            await asyncio.sleep(60)
            await asyncio.get_running_loop().run_in_executor(None, self.add_harvest_day)

    async def digests(self, until):
        # A daily digest due on D covers feed day D-1: the day after each recorded one.
        days = [str(datetime.date.fromisoformat(d) + datetime.timedelta(days=1))
                for d in self.hf_days if d >= "2023-12-01"]
        runs = 0
        while time.monotonic() + 30 < until and days:
            await asyncio.sleep(120 if runs else 45)
            day = days.pop(0)
            process = await asyncio.create_subprocess_exec(
                self.arguments.papers, "--data-dir", self.data, "digest", "send", "--as-of", day,
                env=dict(self.env, PAPERS_SMTP_URL=self.smtp_url),
                stdout=asyncio.subprocess.DEVNULL, stderr=asyncio.subprocess.PIPE)
            _, stderr = await process.communicate()
            runs += 1
            if process.returncode != 0:
                self.failures.append("digest send --as-of %s: %s" % (day, stderr.decode()[-500:]))
        self.digest_runs = runs

    def memory_mb(self):
        """The server's resident memory, and its anonymous part (heap and stacks), MB."""
        fields = {}
        with open("/proc/%d/status" % self.server.pid) as file:
            for line in file:
                name, _, value = line.partition(":")
                if name in ("VmRSS", "RssAnon"):
                    fields[name] = int(value.split()[0]) / 1024
        return fields.get("VmRSS", 0.0), fields.get("RssAnon", 0.0)

    async def caches(self, session):
        """Each cache's figures from /metrics: {cache: {entries, bytes, max_entries,
        max_bytes, full}}; empty when /metrics does not answer (an older binary)."""
        try:
            async with session.get(self.base + "/metrics") as reply:
                text = await reply.text() if reply.status == 200 else ""
        except (aiohttp.ClientError, asyncio.TimeoutError, OSError):
            text = ""
        caches = {}
        under, every = 0.0, 0.0
        for line in text.splitlines():
            bucket = LATENCY_BUCKET.match(line)
            if bucket:
                if bucket.group(1) == "+Inf":
                    every += float(bucket.group(2))
                elif float(bucket.group(1)) == SLOW_MS / 1000:
                    under += float(bucket.group(2))
                continue
            found = METRIC.match(line)
            if found:
                name, cache, value = found.groups()
                key = name[len("papers_cache_"):].removesuffix("_total")
                caches.setdefault(cache, {})[key] = float(value)
            elif line.startswith("papers_store_sqlite_memory_bytes "):
                self.sqlite_mb = float(line.split()[1]) / 2**20
        if every:
            # Counted since the server started: `sample` takes the difference.
            self.server_slow_total = every - under
        return caches

    def open_files(self):
        return len(os.listdir("/proc/%d/fd" % self.server.pid))

    async def sample(self, until, started, metrics):
        self.samples = []  # (t, RSS, anonymous RSS, caches)
        self.sqlite_mb = 0.0
        last_requests, last_errors = 0, self.errors
        await self.caches(metrics)
        last_server_slow = getattr(self, "server_slow_total", 0)
        while time.monotonic() < until:
            await asyncio.sleep(min(10, max(0.1, until - time.monotonic())))
            now = time.monotonic()
            window = [ms for at, ms in self.latencies if at > now - 10]
            if self.server.poll() is not None:
                self.failures.append("the server exited (%s)" % self.server.returncode)
                return
            rss, anonymous = self.memory_mb()
            caches = await self.caches(metrics)
            self.samples.append((now - started, rss, anonymous, caches))
            slow = sum(1 for ms in window if ms >= SLOW_MS)
            server_slow = getattr(self, "server_slow_total", 0) - last_server_slow
            last_server_slow += server_slow
            self.server_slow += server_slow
            log("%s t=%4ds requests %7d (+%5d, %5.0f/s) errors %d p99 %7.1f ms (over %d ms: %d,"
                " %d of them by the server's clock) RSS %6.1f MB (anon %6.1f) open files %d"
                % (datetime.datetime.now(datetime.timezone.utc).strftime("%H:%M:%S"),
                   now - started, self.requests, self.requests - last_requests,
                   (self.requests - last_requests) / 10, self.errors - last_errors,
                   percentile(window, 99), SLOW_MS, slow, server_slow, rss, anonymous,
                   self.open_files()))
            if caches:
                log("       caches: %s; SQLite %.1f MB" % (", ".join(
                    describe_cache(name, cache) for name, cache in sorted(caches.items())
                    if cache.get("entries")), self.sqlite_mb))
            last_requests, last_errors = self.requests, self.errors
            # Keep only the window the next sample needs; the totals keep their own list.
            self.all_ms.extend(ms for at, ms in self.latencies if at <= now)
            self.latencies = [(at, ms) for at, ms in self.latencies if at > now]

    async def run(self):
        timeout = aiohttp.ClientTimeout(total=30)
        connector = aiohttp.TCPConnector(limit=self.read_connections())
        async with aiohttp.ClientSession(timeout=timeout, connector=connector) as session:
            await self.wait_until_up(session)
            # The set-up's objects (the seeded records, the paper ids) live to the end:
            # out of the collector's sight, a full collection no longer walks them.
            # Before this, those collections paused the driver for up to 256 ms, and
            # every request due meanwhile counted the pause as the server's latency.
            gc.collect()
            gc.freeze()
            peak = await self.calibrate(session)
            # The calibration's own requests are not part of the soak's figures.
            self.requests, self.errors, self.latencies, self.all_ms = 0, 0, [], []
            calibration_errors = dict(self.error_kinds)
            self.error_kinds = {}
            rate = peak / 2
            log("calibration: %.0f req/s closed-loop on %d connections (20 s); soak at %.0f req/s"
                " of reads plus %d members' writes%s" % (
                    peak, self.arguments.connections, rate, MEMBERS,
                    ", calibration errors %s" % calibration_errors if calibration_errors else ""))
            self.collections = {}
            until = time.monotonic() + SHORT_BENCH_SECONDS
            await asyncio.gather(self.reads(session, rate, until),
                                 *(self.member(n, until) for n in range(MEMBERS)))
            self.short_p99 = percentile([ms for _, ms in self.latencies], 99)
            log("short bench: %d requests, %d errors, p99 %.1f ms (the soak's load, %d s, before"
                " it)" % (self.requests, self.errors, self.short_p99, SHORT_BENCH_SECONDS))
            # The short bench's errors count; its requests and latencies are its own.
            self.requests, self.latencies = 0, []
            started = time.monotonic()
            until = started + self.arguments.minutes * 60
            async with aiohttp.ClientSession(timeout=timeout) as metrics:
                await asyncio.gather(
                    self.reads(session, rate, until),
                    self.sample(until, started, metrics),
                    self.harvest_days(until),
                    self.digests(until),
                    *(self.member(n, until) for n in range(MEMBERS)))
            self.all_ms.extend(ms for _, ms in self.latencies)
        if self.arguments.fresh and not self.failures:
            await self.fresh_server(rate)

    def read_connections(self):
        """The readers' connections: twice the calibration's, as a reverse proxy's
        pool of keep-alive connections to the server would be. Without a bound the
        driver opened a new connection for every request due during a stall of a
        few hundred ms, up to 226 in ten minutes, and the server's memory grew
        with them (its memory in use fell by 18 MB when the driver closed 225),
        which looked like a leak. A request waiting for a connection still counts
        from when it was due."""
        return 2 * self.arguments.connections

    async def wait_until_up(self, session):
        for _ in range(600):
            if self.server.poll() is not None:
                with open(self.server_log, errors="replace") as file:
                    raise RuntimeError("the server exited: %s" % file.read()[-1500:])
            try:
                async with session.get(self.base + "/healthz") as reply:
                    if reply.status == 200:
                        return
            except aiohttp.ClientError:
                pass
            await asyncio.sleep(0.2)
        raise RuntimeError("the server did not come up: see %s" % self.server_log)

    async def fresh_server(self, rate):
        """Tells the memory the soaked server holds beyond what its data needs: a new
        `papers serve` on the data directory the soak left (every harvested paper,
        vector, comment and vote) under the same reads, writes and harvests, for the
        soak's warm-up and two minutes more; the trough of its last minute against the
        soaked server's last minute. The harvests go on because a soaked server is
        nearly always embedding a harvested day, whose working memory is in its
        troughs; they also give the fresh server a few hundred papers more than the
        soaked one had, which errs in the soaked server's favour by about 1 %. What
        the soaked process holds beyond the fresh one is what ten minutes of serving
        left behind (a leak, fragmentation); the rest of the soak's growth is the
        data's. Only as far as two minutes warm the fresh server up: one still
        filling its caches makes the figure too high (on 2026-12-06 three runs gave
        +1.9, -0.1 and +12.4 %, the last with a fresh trough below the soak's own
        first minute; in a later one the fresh server's memory in use still rose
        through its last minute)."""
        soaked = self.samples
        warm_up = self.warm_up(quiet=True)[0][0]
        self.server.terminate()
        self.server.wait(timeout=30)
        self.start_server()
        seconds = warm_up + 120
        log("fresh server: restarted on the soaked store; the same load for %d s (the"
            " soak's warm-up, %d s, and two minutes)" % (seconds, warm_up))
        # The soak's figures stay the soak's: this phase counts only its errors.
        soak_requests = self.requests
        errors_before, self.latencies = self.errors, []
        samples = []
        timeout = aiohttp.ClientTimeout(total=30)
        async with aiohttp.ClientSession(timeout=timeout,
                                         connector=aiohttp.TCPConnector(
                                             limit=self.read_connections())) as session:
            await self.wait_until_up(session)
            started = time.monotonic()
            until = started + seconds

            async def sampler():
                while time.monotonic() + 1 < until:
                    await asyncio.sleep(10)
                    if self.server.poll() is not None:
                        self.failures.append("the fresh server exited (%s)" % self.server.returncode)
                        return
                    samples.append((time.monotonic() - started, *self.memory_mb(), {}))
            await asyncio.gather(self.reads(session, rate, until), sampler(),
                                 self.harvest_days(until),
                                 *(self.member(n, until) for n in range(MEMBERS)))
        fresh_requests, fresh_errors = len(self.latencies), self.errors - errors_before
        self.requests = soak_requests
        if not samples or not soaked:
            log("fresh server: too few samples")
            return
        fresh_low, fresh_anon = minute_lows(samples)
        soaked_low, soaked_anon = minute_lows(soaked)
        left_behind = (soaked_low - fresh_low) / fresh_low
        self.fresh_line = (
            "fresh server: %d requests, %d errors; RSS trough of its last minute %.1f MB (anon"
            " %.1f), the soaked server's %.1f MB (anon %.1f): the soaked process holds %+.1f%%"
            " (anon %+.1f%%) beyond a new one on the same data (under %d%%) %s" % (
                fresh_requests, fresh_errors, fresh_low, fresh_anon, soaked_low,
                soaked_anon, left_behind * 100,
                (soaked_anon - fresh_anon) / fresh_anon * 100 if fresh_anon else 0.0,
                MAX_RSS_GROWTH * 100, verdict(left_behind < MAX_RSS_GROWTH)))

    def report(self):
        with open(self.server_log, errors="replace") as file:
            server_log = file.read()
        panics = server_log.count("panicked")
        if panics:
            self.failures.append("%d panics in the server log" % panics)
        with self.database() as db:
            harvest_runs = db.execute(
                "SELECT count(*), sum(outcome = 'ok') FROM job_runs WHERE job LIKE 'harvest:%'"
            ).fetchone()
            stored = db.execute("SELECT count(*) FROM papers WHERE id IN (%s)" % ",".join(
                "?" * len(self.harvested_ids)), self.harvested_ids).fetchone()[0]
            comments = db.execute("SELECT count(*) FROM comments").fetchone()[0]
            embedded = db.execute(
                "SELECT count(*) FROM papers p WHERE NOT EXISTS "
                "(SELECT 1 FROM embeddings e WHERE e.paper_key = p.key)").fetchone()[0]
        mails = sum(1 for name in os.listdir(self.mail) if name.endswith(".eml"))
        log("harvest: %d runs (%s ok), %d of %d recorded records stored (the last day may"
            " still be unread)" % (harvest_runs[0], harvest_runs[1], stored, len(self.harvested_ids)))
        log("digest: %d runs, %d mails accepted by the SMTP server" % (
            getattr(self, "digest_runs", 0), mails))
        log("writes: %d comments stored; papers without a vector at the end: %d" % (
            comments, embedded))
        if self.error_kinds:
            log("errors by kind: %s" % self.error_kinds)
        for failure in self.failures:
            log("failure: " + failure)
        errors = self.errors + len(self.failures)
        p99 = percentile(self.all_ms, 99)
        # Where the slow requests' time went: the server's handlers, or the queue before
        # them (a stall of the server's workers, or of the driver itself).
        log("slow requests: %d over %d ms by the driver's clock, %d by the server's; the"
            " driver's garbage collector paused it %d times for %d ms or more (longest %.0f"
            " ms)" % (sum(1 for ms in self.all_ms if ms >= SLOW_MS), SLOW_MS, self.server_slow,
                      len(self.gc_pauses), GC_PAUSE_MS,
                      max((ms for _, ms in self.gc_pauses), default=0)))
        start, end = self.warm_up()
        if start is not None:
            # Judged on the troughs (see `troughs`); the two single samples are shown.
            sampled = (end[1] - start[1]) / start[1] if start[1] else 0.0
            low, high = troughs([sample for sample in self.samples if sample[0] >= start[0]])
            growth = (high - low) / low if low else None
            log("goals: errors %d (0) %s; RSS growth after warm-up %s (under %d%%) %s (single"
                " samples %+.1f%%, anon %.1f -> %.1f MB); p99 %.1f ms = %.1fx the short bench's"
                " %.1f ms (%gx) %s" % (
                    errors, verdict(errors == 0),
                    "too few samples" if growth is None else "%+.1f%% by the troughs" % (growth * 100),
                    MAX_RSS_GROWTH * 100, verdict(growth is not None and growth < MAX_RSS_GROWTH),
                    sampled * 100, start[2], end[2], p99,
                    p99 / self.short_p99 if self.short_p99 else 0, self.short_p99,
                    MAX_P99_RATIO, verdict(p99 <= MAX_P99_RATIO * self.short_p99)))
            if growth is not None:
                log("RSS troughs (lowest of the first and last minute after warm-up): %.1f -> %.1f"
                    " MB" % (low, high))
        if getattr(self, "fresh_line", None):
            log(self.fresh_line)
        log("soak: %d requests, %d errors, p99 %.1f ms, RSS start %.1f MB end %.1f MB" % (
            self.requests, errors, p99, start[1] if start else 0, end[1] if end else 0))
        return 0 if self.errors == 0 and not self.failures else 1

    def warm_up(self, quiet=False):
        """The samples at the end of the warm-up and at the end, told on the way unless
        quiet."""
        samples = getattr(self, "samples", [])
        if not samples:
            return None, None
        first_full = {}
        for index, (_, _, _, caches) in enumerate(samples):
            for name, cache in caches.items():
                if cache.get("full", 0) > 0:
                    first_full.setdefault(name, index)
        never = [describe_cache(name, cache)
                 for name, cache in sorted(samples[-1][3].items())
                 if name not in first_full and cache.get("entries")]
        if first_full:
            index = max(first_full.values())
            quiet or log("warm-up: until t=%ds, when the last cache to fill reached its bound (%s)%s" % (
                samples[index][0], ", ".join(
                    "%s at t=%ds" % (name, samples[at][0]) for name, at in sorted(first_full.items())),
                "; never at their bound: " + ", ".join(never) if never else ""))
        else:
            index = 0
            quiet or log("warm-up: no cache reached its bound%s; RSS growth counts from the first"
                " sample" % (" (no cache figures: /metrics did not answer)"
                             if not samples[-1][3] else ": " + ", ".join(never)))
        return samples[index], samples[-1]


def troughs(samples, window=60):
    """The lowest RSS of the first and of the last `window` seconds after the warm-up;
    (0, 0) with too few samples.

    Two single samples each fall anywhere in the response cache's cycle and the
    background work (an embedding batch, an index commit, a topic map rebuild): 20 to
    30 MB between samples 10 s apart, and up to 100 MB when the cache was cleared
    whole. The troughs, where both are low, rise only with memory that stays: a leak,
    or data.
    """
    if len(samples) < 2:
        return 0.0, 0.0
    return minute_lows(samples, first=True, window=window)[0], minute_lows(samples, window=window)[0]


def minute_lows(samples, first=False, window=60):
    """The lowest RSS and anonymous RSS of the last (or first) `window` seconds of
    samples (t, RSS, anonymous RSS, caches)."""
    edge = samples[0][0] if first else samples[-1][0]
    inside = [sample for sample in samples if abs(sample[0] - edge) < window]
    return min(sample[1] for sample in inside), min(sample[2] for sample in inside)


def describe_cache(name, cache):
    bound = "/%.1f" % (cache["max_bytes"] / 2**20) if "max_bytes" in cache else ""
    return "%s %d/%d entries %.1f%s MB full %d" % (
        name, cache.get("entries", 0), cache.get("max_entries", 0),
        cache.get("bytes", 0) / 2**20, bound, cache.get("full", 0))


def verdict(met):
    return "met" if met else "MISSED"


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--papers", required=True)
    parser.add_argument("--work", required=True)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--records", type=int, default=5000)
    parser.add_argument("--connections", type=int, default=32)
    parser.add_argument("--seed-cache")
    parser.add_argument("--hold", type=int, default=0)
    parser.add_argument("--no-fresh", dest="fresh", action="store_false")
    arguments = parser.parse_args()
    soak = Soak(arguments)
    try:
        soak.prepare()
        asyncio.run(soak.run())
        status = soak.report()
        if arguments.hold:
            log("holding the server (pid %d) for %d s" % (soak.server.pid, arguments.hold))
            time.sleep(arguments.hold)
    finally:
        soak.stop()
    sys.exit(status)


if __name__ == "__main__":
    main()
