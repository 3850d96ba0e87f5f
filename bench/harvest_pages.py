#!/usr/bin/env python3
"""Recorded OAI-PMH pages for bench/harvest.sh, made from real arXiv metadata.

    harvest_pages.py KAGGLE.jsonl.gz OUT_DIR SKIP COUNT PAGE_SIZE FROM_DAY RESPONSE_DAY TOKEN

Writes COUNT records (after skipping SKIP) of the Kaggle snapshot as `arXiv`-format
ListRecords pages of PAGE_SIZE records, named as tests/oai_server.py serves them: the
first `ListRecords-cs-from-FROM_DAY.xml`, the next ones `token-TOKEN|N.xml`, each with
its successor's resumptionToken and the last with an empty one. Each file is written
under a temporary name and renamed, so the server never serves half a page. Prints the
ids written, one a line.
"""

import email.utils
import gzip
import json
import os
import sys
from xml.sax.saxutils import escape

source, out, skip, count, page_size, from_day, response_day, token = sys.argv[1:9]
skip, count, page_size = int(skip), int(count), int(page_size)


def created(record):
    versions = record.get("versions") or []
    if versions:
        try:
            return email.utils.parsedate_to_datetime(versions[0]["created"]).strftime("%Y-%m-%d")
        except (TypeError, ValueError, KeyError):
            pass
    return from_day


def authors(record):
    parts = []
    for author in record.get("authors_parsed") or []:
        keyname = escape(author[0]) if author else ""
        forenames = escape(author[1]) if len(author) > 1 and author[1] else ""
        parts.append(f"<author><keyname>{keyname}</keyname><forenames>{forenames}</forenames></author>")
    return "".join(parts)


def record_xml(record):
    return (
        "<record><header>"
        f"<identifier>oai:arXiv.org:{escape(record['id'])}</identifier>"
        f"<datestamp>{from_day}</datestamp><setSpec>cs</setSpec></header><metadata>"
        '<arXiv xmlns="http://arxiv.org/OAI/arXiv/">'
        f"<id>{escape(record['id'])}</id><created>{created(record)}</created>"
        f"<authors>{authors(record)}</authors>"
        f"<title>{escape(record['title'])}</title>"
        f"<categories>{escape(record['categories'])}</categories>"
        f"<abstract>{escape(record['abstract'])}</abstract>"
        "</arXiv></metadata></record>\n"
    )


records = []
with gzip.open(source, "rt") as lines:
    for number, line in enumerate(lines):
        if number < skip:
            continue
        if len(records) == count:
            break
        records.append(json.loads(line))

pages = [records[i:i + page_size] for i in range(0, len(records), page_size)] or [[]]
for index, page in enumerate(pages):
    last = index == len(pages) - 1
    successor = "" if last else f"{token}|{index + 1}"
    body = (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        '<OAI-PMH xmlns="http://www.openarchives.org/OAI/2.0/">\n'
        f"<responseDate>{response_day}T01:00:00Z</responseDate>\n"
        '<request verb="ListRecords">http://export.arxiv.org/oai2</request>\n<ListRecords>\n'
        + "".join(record_xml(r) for r in page)
        + f'<resumptionToken cursor="{index * page_size}" completeListSize="{len(records)}">{successor}</resumptionToken>\n'
        "</ListRecords>\n</OAI-PMH>\n"
    )
    name = f"ListRecords-cs-from-{from_day}.xml" if index == 0 else f"token-{token}|{index}.xml"
    temporary = os.path.join(out, f".{name}.tmp")
    with open(temporary, "w") as f:
        f.write(body)
    os.rename(temporary, os.path.join(out, name))
for record in records:
    print(record["id"])
