#!/usr/bin/env bash
# Build the docs: fetch MathJax from npm when it is missing, then sphinx-build with warnings as errors.
#   bash docs/build.sh [OUTDIR] [extra sphinx-build options]     (OUTDIR: docs/_build/html)
# TINYLEARN_DOCS_EXECUTE=off renders the lessons without running them.
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-docs/_build/html}"
shift || true
export TQDM_DISABLE=1
python docs/fetch_assets.py
SECONDS=0
# under the watchdog: a build whose lesson kernel stalls (no CPU for 2 minutes) is run again
python docs/watchdog.py --idle 120 --retries 1 -- python -m sphinx -W --keep-going -b html docs "$out" "$@"
echo "== docs built in ${SECONDS}s: $out/index.html"
