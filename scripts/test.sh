#!/usr/bin/env bash
# Set up everything the tests need, then run them all.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
cd "$here"
cargo test --workspace --locked --all-targets
