#!/usr/bin/env bash
# The test suite (unit, integration, golden and property tests), optimised build.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
require_cargo
if cargo nextest --version >/dev/null 2>&1; then
    cargo nextest run --release --locked --no-fail-fast
else
    cargo test --release --locked --no-fail-fast
fi
