#!/usr/bin/env bash
# Set up everything the tests need, then run them all: the Rust workspace
# (against a real S3 server on 127.0.0.1) and the Python API and scripts.
set -euo pipefail
here=$(cd "$(dirname "$0")/.." && pwd)
"$here/scripts/setup.sh"
# The real S3 server the storage tests start (built once, then cached).
"$here/scripts/garage.sh" install
cd "$here"
if [[ ! -d ${RECTO_CORPUS_DIR:-$here/../shared/corpus} ]]; then
  echo "test.sh: the shared corpus (../shared/corpus or RECTO_CORPUS_DIR) is absent: the tests that need it pass as skipped (see SKIPPED lines with -- --nocapture)" >&2
fi
# The cluster tests start a one-node Slurm (scripts/slurm.sh) when it is not
# running; it is stopped when the tests end.
trap '"$here/scripts/slurm.sh" stop >/dev/null 2>&1 || true' EXIT
# --release: the same profile as the binary and the wheel, so MuPDF and the
# other C dependencies are built once (see scripts/setup.sh).
# The gated tests (Garage, Slurm, Chromium) run here, all of them: `cargo
# test` alone leaves them out, so it never installs or starts anything.
export RECTO_TEST_S3=1 RECTO_TEST_SLURM=1 RECTO_TEST_BROWSER=1
cargo test --release --workspace --locked --all-targets

# Python: build the abi3 wheel with maturin, install it into a fresh venv,
# run the spec's snippets and the scripts (and `uv run`) with pytest.
venv=$here/target/py-test-venv
rm -rf "$venv"
python3 -m venv "$venv"
"$venv/bin/pip" install -q --upgrade pip
# hocr-spec and alto-tools: independent readers of the hOCR and ALTO exports.
"$venv/bin/pip" install -q "maturin>=1.5,<2" "pytest>=7" uv "hocr-spec==0.2.0" "alto-tools==0.1.0"
rm -rf target/wheels
"$venv/bin/maturin" build --release --quiet --auditwheel skip -o target/wheels
"$venv/bin/pip" install -q target/wheels/recto-*.whl
PATH="$venv/bin:$PATH" RECTO_BIN="$here/target/release/recto" "$venv/bin/python" -m pytest -q tests/python
