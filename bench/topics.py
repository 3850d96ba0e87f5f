#!/usr/bin/env python3
"""Agreement of the topic map's broad level with arXiv's primary categories on the
2020 set, next to scikit-learn's k-means with the same k on the same reference
vectors, in the same run (issue 19's quality bench).

Usage: bench/topics.py SHARED_DIR OUT_DIR
  OUT_DIR holds what crates/topics/examples/topics_bench.rs wrote: assignments.tsv
  (file row, broad topic, primary category), k, seconds (the whole build) and
  broad_seconds (its broad clustering alone).

Prints NMI and ARI of both clusterings against the categories, their times, and two
ratios: the whole two-level build with names against k-means (the issue's goal), and
the broad clustering alone against k-means (like for like: k-means makes one level).
Exits non-zero when ours falls below k-means's NMI by more than 0.02 (the goal is
"at least k-means's"; 0.02 is the spread between k-means seeds here), so the
bench fails rather than reports a regression.
"""
import sys
import time
from pathlib import Path

import numpy as np
from sklearn.cluster import KMeans
from sklearn.metrics import adjusted_rand_score, normalized_mutual_info_score

DIM = 384


def main() -> int:
    shared, out = Path(sys.argv[1]), Path(sys.argv[2])
    rows, ours, labels = [], [], []
    for line in (out / "assignments.tsv").read_text().splitlines():
        row, topic, label = line.split("\t")
        rows.append(int(row))
        ours.append(int(topic))
        labels.append(label)
    k = int((out / "k").read_text())
    our_seconds = float((out / "seconds").read_text())
    broad_seconds = float((out / "broad_seconds").read_text())
    vectors = np.fromfile(shared / "reference/arxiv-2020-minilm/vectors.f16", dtype="<f2")
    vectors = vectors.reshape(-1, DIM)[rows].astype(np.float32)
    print(f"papers: {len(rows)}, k = {k}, categories: {len(set(labels))}")

    started = time.perf_counter()
    # scikit-learn's defaults for k-means++ (n_init="auto": one run with k-means++).
    theirs = KMeans(n_clusters=k, random_state=0).fit_predict(vectors)
    their_seconds = time.perf_counter() - started

    our_nmi = normalized_mutual_info_score(labels, ours)
    their_nmi = normalized_mutual_info_score(labels, theirs)
    print(f"papers topics  NMI {our_nmi:.4f}  ARI {adjusted_rand_score(labels, ours):.4f}  "
          f"time {our_seconds:.2f} s (whole two-level build with names)")
    print(f"sklearn KMeans NMI {their_nmi:.4f}  ARI {adjusted_rand_score(labels, theirs):.4f}  "
          f"time {their_seconds:.2f} s (broad level only)")
    print(f"time ratio: {our_seconds / their_seconds:.3f} of k-means's (whole build)")
    print(f"broad clustering {broad_seconds:.2f} s against k-means {their_seconds:.2f} s: "
          f"broad ratio {broad_seconds / their_seconds:.3f} (like for like)")
    if our_nmi < their_nmi - 0.02:
        print(f"FAIL: NMI {our_nmi:.4f} below k-means's {their_nmi:.4f}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
