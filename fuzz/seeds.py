#!/usr/bin/env python3
"""Writes the fuzz targets' seed corpora from the shared data sets.

Usage: seeds.py DATA_DIR OUT_DIR. Each target gets OUT_DIR/<target>/ with real inputs
(or pieces of them, reshaped into the form that target reads). Nothing here is kept in
the repository: the seeds are made again from DATA_DIR on every run, so the corpora
follow the shared data. Inputs are capped at 60 KB, under the targets' -max_len.
"""

import gzip
import hashlib
import json
import re
import sys
from pathlib import Path
from xml.sax.saxutils import escape

MAX_BYTES = 60_000


class Corpus:
    """Seeds per target, deduplicated by content."""

    def __init__(self, out: Path):
        self.out = out
        self.counts: dict[str, int] = {}

    def add(self, target: str, data):
        if isinstance(data, str):
            data = data.encode("utf-8")
        if not data or len(data) > MAX_BYTES:
            return
        folder = self.out / target
        folder.mkdir(parents=True, exist_ok=True)
        name = hashlib.sha1(data).hexdigest()[:16]
        path = folder / name
        if not path.exists():
            path.write_bytes(data)
            self.counts[target] = self.counts.get(target, 0) + 1


def read_jsonl_gz(path: Path, limit: int):
    with gzip.open(path, "rt", encoding="utf-8") as lines:
        for number, line in enumerate(lines):
            if number >= limit:
                break
            yield line.rstrip("\n")


def abs_header(text: str) -> dict:
    """The `Key: value` fields of an .abs file (continuations joined), and the dates."""
    fields: dict = {"dates": []}
    parts = text.split("\\\\")
    if len(parts) < 3:
        return fields
    key = None
    for line in parts[1].splitlines():
        if line.startswith((" ", "\t")) and key:
            fields[key] += " " + line.strip()
            continue
        if line.startswith("arXiv:"):
            fields["id"] = line[len("arXiv:") :].strip()
        elif line.startswith("Date"):
            fields["dates"].append(line.split(":", 1)[1].strip())
        elif ":" in line:
            key, value = line.split(":", 1)
            key = key.strip().lower()
            fields[key] = value.strip()
    fields["abstract"] = parts[2].strip()
    return fields


def arxiv_raw_inner(fields: dict) -> str:
    """The content of an OAI `<arXivRaw>` element for one .abs file."""
    out = [f"<id>{escape(fields.get('id', ''))}</id>"]
    if "from" in fields:
        out.append(f"<submitter>{escape(fields['from'].split('<')[0].strip())}</submitter>")
    for number, date in enumerate(fields["dates"], start=1):
        size = re.search(r"\(([^)]*)\)\s*$", date)
        day = re.sub(r"\s*\([^)]*\)\s*$", "", date)
        out.append(
            f'<version version="v{number}"><date>{escape(day)}</date>'
            f"<size>{escape(size.group(1) if size else '')}</size></version>"
        )
    for key, element in [
        ("title", "title"),
        ("authors", "authors"),
        ("categories", "categories"),
        ("comments", "comments"),
        ("journal-ref", "journal-ref"),
        ("report-no", "report-no"),
        ("doi", "doi"),
        ("license", "license"),
    ]:
        if key in fields:
            out.append(f"<{element}>{escape(fields[key])}</{element}>")
    out.append(f"<abstract>{escape(fields.get('abstract', ''))}</abstract>")
    return "".join(out)


def arxiv_inner(record: dict) -> str:
    """The content of an OAI `<arXiv>` element for one Kaggle snapshot record."""
    created = record.get("versions", [{}])[0].get("created", "")
    match = re.search(r"(\d+) (\w{3}) (\d{4})", created)
    months = "Jan Feb Mar Apr May Jun Jul Aug Sep Oct Nov Dec".split()
    day = (
        f"{match.group(3)}-{months.index(match.group(2)) + 1:02}-{int(match.group(1)):02}"
        if match and match.group(2) in months
        else ""
    )
    out = [f"<id>{escape(record['id'])}</id><created>{day}</created>"]
    if record.get("update_date"):
        out.append(f"<updated>{escape(record['update_date'])}</updated>")
    out.append("<authors>")
    for parsed in record.get("authors_parsed", []):
        keyname, forenames, suffix = (parsed + ["", "", ""])[:3]
        out.append(
            f"<author><keyname>{escape(keyname)}</keyname>"
            f"<forenames>{escape(forenames)}</forenames>"
            + (f"<suffix>{escape(suffix)}</suffix>" if suffix else "")
            + "</author>"
        )
    out.append("</authors>")
    for key in ["title", "categories", "comments", "journal-ref", "doi", "report-no", "license"]:
        if record.get(key):
            out.append(f"<{key}>{escape(record[key])}</{key}>")
    out.append(f"<abstract>{escape(record.get('abstract', ''))}</abstract>")
    return "".join(out)


def oai_page(records: list[tuple[str, str, str]], token: str | None = None) -> str:
    """A ListRecords page of (identifier, format, inner) records."""
    namespaces = {"arXiv": "http://arxiv.org/OAI/arXiv/", "arXivRaw": "http://arxiv.org/OAI/arXivRaw/"}
    body = [
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        "<responseDate>2024-01-02T00:00:00Z</responseDate>"
        '<request verb="ListRecords" metadataPrefix="arXivRaw">http://export.arxiv.org/oai2</request>'
        "<ListRecords>"
    ]
    for identifier, format, inner in records:
        body.append(
            f"<record><header><identifier>oai:arXiv.org:{escape(identifier)}</identifier>"
            f"<datestamp>2024-01-02</datestamp><setSpec>cs</setSpec></header>"
            f'<metadata><{format} xmlns="{namespaces[format]}">{inner}</{format}></metadata></record>'
        )
    if token is not None:
        body.append(f'<resumptionToken cursor="0" completeListSize="1234">{token}</resumptionToken>')
    body.append("</ListRecords></OAI-PMH>\n")
    return "".join(body)


def atom_entries(feed: str) -> list[str]:
    """Each entry of a feed as a feed of its own."""
    start = feed.find("<entry>")
    if start < 0:
        return []
    head = feed[:start]
    return [head + entry + "</feed>\n" for entry in re.findall(r"<entry>.*?</entry>", feed, re.S)]


def main() -> None:
    data, out = Path(sys.argv[1]), Path(sys.argv[2])
    corpus = Corpus(out)

    # arXiv .abs files: raw bytes (the Latin-1 one stays Latin-1), and arXivRaw records.
    abs_fields = []
    for line in read_jsonl_gz(data / "arxiv-abs-files/abs_files.jsonl.gz", 10**6):
        item = json.loads(line)
        text = item["abs"]
        raw = text.encode("latin-1" if item["encoding"] == "latin-1" else "utf-8", "replace")
        corpus.add("abs", raw)
        fields = abs_header(text)
        if "id" in fields:
            abs_fields.append(fields)
            corpus.add("oai_arxiv_raw", arxiv_raw_inner(fields))
            corpus.add("arxiv_id", fields["id"])
            if "from" in fields:
                address = re.search(r"<([^>]*)>", fields["from"])
                if address:
                    corpus.add("email", address.group(1))
    for fields in abs_fields[:40]:
        corpus.add("detect", "\\\\\narXiv:" + fields["id"] + "\n" + "Title: " + fields.get("title", ""))

    # Kaggle snapshot lines, and arXiv-format OAI records made from them.
    kaggle = (data / "arxiv-kaggle-snapshot/sample-0704.0001-0704.0200.jsonl").read_text().splitlines()
    kaggle += list(read_jsonl_gz(data / "arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz", 300))
    arxiv_records = []
    for line in kaggle:
        corpus.add("kaggle", line)
        record = json.loads(line)
        arxiv_records.append((record["id"], arxiv_inner(record)))
        corpus.add("oai_arxiv", arxiv_records[-1][1])
        corpus.add("arxiv_id", record["id"])
        for version in record.get("versions", [])[:1]:
            corpus.add("arxiv_id", f"arXiv:{record['id']}{version.get('version', '')}")
        corpus.add("arxiv_id", f"https://arxiv.org/abs/{record['id']}v2")
        corpus.add("arxiv_id", f"https://huggingface.co/papers/{record['id']}")
        corpus.add("arxiv_id", record.get("categories") or "")
        corpus.add("arxiv_id", (record.get("comments") or "") + "\n" + record.get("abstract", "")[-300:])
        corpus.add("query", record["title"].replace("\n", " "))
    corpus.add("detect", "\n".join(kaggle[:3]) + "\n")
    corpus.add("detect", gzip.compress(("\n".join(kaggle[:5]) + "\n").encode(), mtime=0))

    # OAI-PMH: the recorded responses, and pages of both formats.
    for path in sorted((data / "arxiv-oai-pmh/paperhive-nock-2018").glob("*.xml")):
        text = path.read_bytes()
        corpus.add("oai_page", text)
        corpus.add("detect", text)
        for inner in re.findall(rb"<arXiv [^>]*>(.*?)</arXiv>", text, re.S):
            corpus.add("oai_arxiv", inner)
    raw_records = [(f["id"], "arXivRaw", arxiv_raw_inner(f)) for f in abs_fields]
    for start in range(0, 60, 3):
        page = oai_page(raw_records[start : start + 3], token="6960524|1001" if start % 2 else None)
        corpus.add("oai_page", page)
        corpus.add("detect", page)
    for start in range(0, 30, 3):
        records = [(identifier, "arXiv", inner) for identifier, inner in arxiv_records[start : start + 3]]
        corpus.add("oai_page", oai_page(records))
    corpus.add(
        "oai_page",
        '<?xml version="1.0"?><OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">'
        '<error code="noRecordsMatch">no records</error></OAI-PMH>',
    )
    corpus.add(
        "oai_page",
        '<OAI-PMH><ListRecords><record><header status="deleted"><identifier>oai:arXiv.org:0704.0001'
        "</identifier></header></record><resumptionToken/></ListRecords></OAI-PMH>",
    )

    # arXiv API Atom feeds, whole and one entry at a time.
    for path in sorted((data / "arxiv-api-atom").glob("*/*.xml")):
        text = path.read_text(encoding="utf-8")
        corpus.add("atom", text)
        corpus.add("detect", text)
        for feed in atom_entries(text)[:15]:
            corpus.add("atom", feed)

    # Hugging Face: daily lists (whole, and one entry each) and paper objects.
    daily_files = [data / "hf-daily-papers-api/daily_papers_2024-10-25.json"]
    daily_files += sorted((data / "hf-daily-papers-api/2023-11-to-2024-04").glob("*.json"))
    for path in daily_files:
        text = path.read_bytes()
        corpus.add("hf_daily", text)
        corpus.add("detect", text)
        for entry in json.loads(text)[:4]:
            corpus.add("hf_daily", json.dumps([entry]))
            corpus.add("hf_paper", json.dumps(entry["paper"]))
            if "submittedBy" in entry:
                paper = dict(entry["paper"], submittedOnDailyBy=entry["submittedBy"])
                paper["submittedOnDailyAt"] = entry.get("publishedAt")
                corpus.add("hf_paper", json.dumps(paper))
                corpus.add("detect", json.dumps(paper))
            corpus.add("arxiv_id", entry["paper"]["id"])

    # The search box: the SciFact queries, and the filters of the query syntax.
    for line in (data / "beir-scifact/queries.jsonl").read_text().splitlines()[:300]:
        corpus.add("query", json.loads(line)["text"])
    for query in [
        'author:"geoffrey hinton" cat:cs.LG after:2020-01-01 "knowledge distillation"',
        "au:lovelace category:cs.IR before:2024-06 dense retrieval",
        'after:2024 before:2024-02-01 "exact phrase" title:word unknown:"a b"',
        "2401.00368",
        "https://arxiv.org/abs/hep-th/9901001v2",
        'cat:cs.CL cat:cs.IR "unclosed phrase',
    ]:
        corpus.add("query", query)

    # Mail settings and addresses.
    for address in ["reader@example.org", "First.Last+tag@mail.example.co.uk", "a@b.cd"]:
        corpus.add("email", address)
    for url in [
        "smtp://localhost:2525",
        "smtp://user:secret-pass@mail.example.org:587/papers.example?tls=required",
        "smtps://mail.example.org",
        "smtp://mail.example.org?tls=opportunistic\nDaily Papers <papers@example.org>\nhttps://papers.example/",
        "smtp://%75ser:p%40ss@[::1]:25\n\"Papers, daily\" <p@example.org>\nhttp://127.0.0.1:8080",
    ]:
        corpus.add("smtp_url", url)

    # Signed tokens as they appear in confirmation and unsubscribe links.
    for token in [
        "1.c.1893456000.0123456789abcdef0123456789abcdef",
        "42.u.1700000001.ffffffffffffffffffffffffffffffff",
        "-1.c.0.00000000000000000000000000000000",
    ]:
        corpus.add("token", token)

    # The site: query strings of every page and API, and every form.
    for request in [
        "GET /papers?sort=trending&category=cs.IR&p=1",
        "GET /?sort=newest",
        "GET /papers/date/2024-01-02?sort=upvotes&p=0",
        "GET /papers/week/2024-W01?category=cs.CL",
        "GET /papers/month/2024-01",
        "GET /papers/trending/feed.atom?category=cs.CL",
        "GET /papers/date/2024-01-02/feed.rss",
        "GET /search?q=retrieval&mode=lexical&category=cs.IR",
        "GET /search/feed.rss?q=author%3Aada+cat%3Acs.IR",
        "GET /papers/2401.00001",
        "GET /papers/hep-th/9901001",
        "GET /users/alice",
        "GET /organizations/acme",
        "GET /api/daily_papers?date=2024-01-02&limit=10&p=0&sort=trending",
        "GET /api/daily_papers?week=2024-W01&submitter=alice",
        "GET /api/papers?cursor=abc&limit=5",
        "GET /api/papers/search?q=vision&limit=3&mode=semantic",
        "GET /api/papers/2401.00001",
        "GET /api/papers/hep-th/9901001/similar?limit=2",
        "POST /api/papers/2401.00001/upvote member",
        "GET /login?next=/papers/2401.00001",
        "POST /login\ncsrf={csrf}&username=fuzzer&password=wrong&next=%2Fpapers",
        "POST /signup\ncsrf={csrf}&username=bob_2&email=bob%40example.org&password=long-enough-password",
        "POST /subscribe\ncsrf={csrf}&email=reader%40example.org&frequency=weekly&categories=cs.IR+cs.CL&queries=retrieval",
        'POST /api/subscriptions\n{"email":"reader@example.org","frequency":"daily","categories":["cs.IR"],"queries":["rag"]}',
        "POST /vote member\ncsrf={csrf}&paper=2401.00001&back=%2Fpapers",
        "POST /submit member\ncsrf={csrf}&reference=https%3A%2F%2Farxiv.org%2Fabs%2F2401.00002v1",
        "GET /subscriptions member",
        "GET /subscriptions/confirm/1.c.1893456000.0123456789abcdef0123456789abcdef",
        "POST /unsubscribe/1.u.1893456000.0123456789abcdef0123456789abcdef",
        "GET /digest/preview?token=1.u.1893456000.0123456789abcdef0123456789abcdef",
        "GET /digest/preview member",
    ]:
        corpus.add("web", request)

    for target, count in sorted(corpus.counts.items()):
        print(f"{target}: {count} seeds")


if __name__ == "__main__":
    main()
