#!/usr/bin/env bash
# Builds the serving image scalesim-serve:latest: `sim` linked statically (glibc,
# crt-static; without the lstm feature, since libtorch cannot link statically) into a
# FROM scratch image, through the Docker engine's API (`sim image`). No registry needed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/env.sh
require_cargo
TARGET=x86_64-unknown-linux-gnu
RUSTFLAGS='-C target-feature=+crt-static' cargo build --release --locked --bin sim --target "$TARGET"
STATIC="$CARGO_TARGET_DIR/$TARGET/release/sim"
"$STATIC" image --binary "$STATIC" --tag "${1:-scalesim-serve:latest}"
