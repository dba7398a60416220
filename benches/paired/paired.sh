#!/usr/bin/env bash
# Compares the per-call cost of `#[operator]` (telemetry on) at an older commit with the
# working tree's, both in one process (alternate_rounds.rs says why and how).
#
#   benches/paired/paired.sh OLD_COMMIT     # e.g. b264577; CYCLES=, CALLS=, NODES= to change
#
# Builds in $PAIRED_DIR (default: $TMPDIR/pipetel-paired): the old commit's sources in
# `old-source` (`git archive`, with its version renamed so that Cargo tells the two
# pipetels apart), and in `crates` (not above them: Cargo would take the old workspace's
# crates for its own) a crate per side made of operator.rs, and alternate_rounds.rs as
# the binary over both.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
repo="$(git -C "$here" rev-parse --show-toplevel)"
old="$(git -C "$repo" rev-parse --verify "${1:?usage: paired.sh OLD_COMMIT}^{commit}")"
work="${PAIRED_DIR:-${TMPDIR:-/tmp}/pipetel-paired}"

rm -rf "$work/old-source" && mkdir -p "$work/old-source"
# Stamped now (`-m`), not with the commit's time: Cargo would take what it built from
# another commit at the same path for up to date.
git -C "$repo" archive "$old" | tar -x -m -C "$work/old-source"
# The workspace's version and the runtime's path dependency on the macros.
sed -i -E '/^version = "|path = "(runtime|macros)"/ s/version = "[^"]*"/version = "0.0.0-paired"/' \
  "$work/old-source/Cargo.toml"

crates="$work/crates"
side() { # name, runtime path
  mkdir -p "$crates/$1/src"
  cp "$here/operator.rs" "$crates/$1/src/lib.rs"
  cat >"$crates/$1/Cargo.toml" <<TOML
[package]
name = "$1"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
pipetel = { path = "$2", default-features = false, features = ["enabled"] }
TOML
}
side old "$work/old-source/runtime"
side new "$repo/runtime"
mkdir -p "$crates/bench/src"
cp "$here/alternate_rounds.rs" "$crates/bench/src/main.rs"
cat >"$crates/bench/Cargo.toml" <<TOML
[package]
name = "bench"
version = "0.0.0"
edition = "2021"
publish = false

[dependencies]
old = { path = "../old" }
new = { path = "../new" }
quanta = "0.12"
TOML
cat >"$crates/Cargo.toml" <<TOML
[workspace]
members = ["old", "new", "bench"]
resolver = "2"
TOML

echo "old: $(git -C "$repo" log --oneline -1 "$old")"
echo "new: the working tree at $(git -C "$repo" log --oneline -1 HEAD)"
cargo build --release --quiet --manifest-path "$crates/Cargo.toml"
"$crates/target/release/bench"
