#!/usr/bin/env bash
# The whole test suite, as CI runs it: formatting, lints, every unit and integration test
# (integration tests run under both the io_uring and the epoll driver), and that the benches
# build. Run from anywhere: ./scripts/check.sh
set -euo pipefail
cd "$(dirname "$0")/.."

echo "== cargo fmt --check"
cargo fmt --all -- --check
cargo fmt --manifest-path fuzz/Cargo.toml -- --check

echo "== cargo clippy --all-targets -- -D warnings"
cargo clippy --all-targets --quiet -- -D warnings
# The fuzz crate (fuzz/, its own workspace) shares the target dir, so ringlb is built once.
cargo clippy --manifest-path fuzz/Cargo.toml --target-dir target --all-targets --quiet -- -D warnings

echo "== hygiene: every #[ignore] carries a reason"
if grep -rnE '#\[ignore\]' src tests benches 2>/dev/null; then
    echo "an #[ignore] without a reason string" >&2
    exit 1
fi

echo "== cargo test"
cargo test

echo "== fuzz corpus replay (every fuzz/corpus file through its target; no fuzzer needed)"
cargo test --manifest-path fuzz/Cargo.toml --target-dir target
