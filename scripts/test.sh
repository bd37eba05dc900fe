#!/usr/bin/env bash
# Set up everything the tests need, then run them all.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
# The real S3 server the storage tests start (built once, then cached).
"$here/scripts/garage.sh" install
cd "$here"
cargo test --workspace --locked --all-targets
