#!/usr/bin/env bash
# Installs what the tests use beyond the Rust toolchain. Safe to run again: each step
# checks before it installs.
set -euo pipefail

apt_packages=()
if ((${#apt_packages[@]})); then
    missing=()
    for package in "${apt_packages[@]}"; do
        dpkg -s "$package" >/dev/null 2>&1 || missing+=("$package")
    done
    if ((${#missing[@]})); then
        echo "== installing ${missing[*]}"
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}"
    fi
fi
