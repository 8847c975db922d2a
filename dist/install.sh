#!/usr/bin/env bash
# Finds or builds the relkit binary for relkit's actions, and says where it is.
#
#   dist/install.sh            prints the binary's path on stdout
#
# In order:
#   1. `relkit` on PATH is used as it is (a self-hosted runner's own install, or a step before).
#   2. A build of this very source in the tool cache is reused: the first relkit action of a job
#      builds, the others (and later jobs on a self-hosted runner) find it there.
#   3. Otherwise relkit is built from the source this script belongs to with `cargo install`,
#      into a directory beside the cache entry, and moved into place in one rename, so two jobs
#      building at once on one runner never see half a build.
#
# The cache entry is keyed by the version, a digest of the sources and the runner's OS and
# architecture, so `@main` moving to a new commit builds again, and an unchanged source does not.
#
# Environment:
#   RELKIT_TOOL_CACHE   where builds are kept (default: $RUNNER_TOOL_CACHE/relkit, else
#                       ${XDG_CACHE_HOME:-$HOME/.cache}/relkit)
#   RELKIT_SOURCE       the source to build (default: the directory above dist/)
#
# Release binaries are not downloaded yet: relkit has no published release to download from.
set -euo pipefail

# Everything but the path goes to stderr: the actions read the path with $(…). The runner acts
# on workflow commands in either stream.
say() { printf '%s\n' "$*" >&2; }
fail() {
    if [[ -n "${GITHUB_ACTIONS:-}" ]]; then
        say "::error title=relkit is not installed::$1"
    else
        say "error: $1"
    fi
    exit 1
}

sha256() {
    if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi
}

if bin=$(command -v relkit); then
    say "Using $bin ($("$bin" --version))"
    printf '%s\n' "$bin"
    exit 0
fi

source_dir="${RELKIT_SOURCE:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}"
[[ -f "$source_dir/Cargo.toml" && -f "$source_dir/Cargo.lock" ]] ||
    fail "RELKIT_SOURCE=$source_dir is not relkit's source: it has no Cargo.toml and Cargo.lock"

version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$source_dir/Cargo.toml" | head -n 1)
[[ -n "$version" ]] || fail "$source_dir/Cargo.toml names no version"

# The sources that make the binary: manifests, the lock file, and everything under crates/
# but the tests, in a fixed order.
digest=$(
    cd "$source_dir"
    {
        printf '%s\n' Cargo.toml Cargo.lock
        find crates -type f -not -path '*/tests/*' -not -path '*/benches/*'
    } | LC_ALL=C sort | while IFS= read -r file; do
        printf '%s\0' "$file"
        cat -- "$file"
    done | sha256 | cut -c1-16
)
platform=$(printf '%s-%s' "$(uname -s)" "$(uname -m)" | tr '[:upper:]' '[:lower:]')

if [[ -n "${RELKIT_TOOL_CACHE:-}" ]]; then
    cache="$RELKIT_TOOL_CACHE"
elif [[ -n "${RUNNER_TOOL_CACHE:-}" ]]; then
    cache="$RUNNER_TOOL_CACHE/relkit"
elif [[ -n "${XDG_CACHE_HOME:-}" || -n "${HOME:-}" ]]; then
    cache="${XDG_CACHE_HOME:-$HOME/.cache}/relkit"
else
    fail "no place to keep builds: set RELKIT_TOOL_CACHE (neither RUNNER_TOOL_CACHE nor HOME is set)"
fi
entry="$cache/$version-$digest-$platform"
bin="$entry/bin/relkit"

if [[ -x "$bin" ]]; then
    say "Using $bin ($("$bin" --version), built from this source before)"
    printf '%s\n' "$bin"
    exit 0
fi

command -v cargo >/dev/null ||
    fail "relkit is not on PATH and cargo is not installed to build it: add a step that installs a Rust toolchain (for example dtolnay/rust-toolchain), or put relkit on PATH"

mkdir -p "$cache" || fail "cannot create the tool cache $cache"
building=$(mktemp -d "$cache/.building-XXXXXX")
trap 'rm -rf "$building"' EXIT
say "Building relkit $version from $source_dir (once per source; kept in $entry)"
# The build directory lives beside the cache entry, not in the source (which may be read-only)
# and not in /tmp (which may be small).
CARGO_TARGET_DIR="$building/target" cargo install --locked --quiet \
    --path "$source_dir" --root "$building/root" >&2 ||
    fail "cargo could not build relkit $version from $source_dir (its messages are above)"
rm -rf "$building/target"
# One rename puts the whole build in place; a job that got there first wins, and its build
# (of the same source) is used. When two jobs rename at once, mv puts the second build inside
# the first (mv -T is GNU only): that copy is removed.
[[ -e "$entry" ]] || mv "$building/root" "$entry" 2>/dev/null || true
rm -rf "${entry:?}/root"
[[ -x "$bin" ]] || fail "cannot move the build into $entry"
say "Using $bin ($("$bin" --version))"
printf '%s\n' "$bin"
