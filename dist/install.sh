#!/usr/bin/env bash
# Finds, downloads or builds the relkit binary for relkit's actions, and says where it is.
#
#   dist/install.sh                  prints the binary's path on stdout
#   dist/install.sh --source-digest  prints the digest of the sources a binary is built from
#
# In order:
#   1. `relkit` on PATH is used as it is when it is the version wanted (a self-hosted runner's
#      own install, or a step before).
#   2. The release binary of that version for this OS and architecture, from the tool cache or
#      downloaded into it. Only a binary whose SHA-256 is the one dist/SHA256SUMS records is
#      run, cached or not: a mismatch is an error naming both sums, never a warning.
#   3. Otherwise relkit is built from the source this script belongs to with
#      `cargo install --locked`, into a directory beside the cache entry, and moved into place
#      in one rename, so two jobs building at once on one runner never see half a build.
#
# The version wanted is RELKIT_INSTALL_VERSION (the setup action's `version` input), else the
# one dist/release names. Without RELKIT_INSTALL_VERSION the release binary is used only when
# this source is that release's source (dist/release records its digest): a checkout of `@main`
# past a release builds its own source instead of running the older binary with inputs it does
# not know.
#
# Source builds are kept by version, source digest and platform, so `@main` moving to a new
# commit builds again, and an unchanged source does not.
#
# Environment:
#   RELKIT_INSTALL_VERSION  the version to install (needs its sums in dist/SHA256SUMS)
#   RELKIT_DOWNLOAD_URL     the base URL the release binaries are fetched from (a Gitea mirror,
#                           an air-gapped runner's file server); `{version}` in it is replaced.
#                           Default: https://github.com/relkit/relkit/releases/download/v{version}
#   RELKIT_TOOL_CACHE       where binaries are kept (default: $RUNNER_TOOL_CACHE/relkit, else
#                           ${XDG_CACHE_HOME:-$HOME/.cache}/relkit)
#   RELKIT_SOURCE           the source to build (default: the directory above dist/)
set -euo pipefail

# Everything but the path goes to stderr: the actions read the path with $(…). The runner acts
# on workflow commands in either stream.
say() { printf '%s\n' "$*" >&2; }
under_runner() { [[ -n "${GITHUB_ACTIONS:-}${GITEA_ACTIONS:-}${FORGEJO_ACTIONS:-}" ]]; }
fail() {
    if under_runner; then
        say "::error title=relkit is not installed::$1"
    else
        say "error: $1"
    fi
    exit 1
}
warn() {
    if under_runner; then
        say "::warning title=relkit::$1"
    else
        say "warning: $1"
    fi
}

sha256() {
    if command -v sha256sum >/dev/null; then sha256sum; else shasum -a 256; fi
}

dist=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
source_dir="${RELKIT_SOURCE:-$(cd "$dist/.." && pwd)}"

# The sources that make the binary: manifests, the lock file, and everything under crates/
# but the tests, in a fixed order. dist/ is not among them: the release workflow writes the
# sums of a build into dist/ after building it.
source_digest() {
    (
        cd "$source_dir"
        {
            printf '%s\n' Cargo.toml Cargo.lock
            find crates -type f -not -path '*/tests/*' -not -path '*/benches/*'
        } | LC_ALL=C sort | while IFS= read -r file; do
            printf '%s\0' "$file"
            cat -- "$file"
        done | sha256 | cut -c1-16
    )
}

has_source() { [[ -f "$source_dir/Cargo.toml" && -f "$source_dir/Cargo.lock" ]]; }
# A source named on purpose that is not one is a mistake, whatever would be installed.
[[ -z "${RELKIT_SOURCE:-}" ]] || has_source ||
    fail "RELKIT_SOURCE=$source_dir is not relkit's source: it has no Cargo.toml and Cargo.lock"

if [[ "${1:-}" == --source-digest ]]; then
    has_source || fail "$source_dir is not relkit's source: it has no Cargo.toml and Cargo.lock"
    source_digest
    exit 0
elif [[ $# -gt 0 ]]; then
    fail "unknown argument '$1': dist/install.sh takes none, or --source-digest"
fi

# `key=value` from dist/release; empty when the file or the key is missing.
recorded() { sed -n "s/^$1=//p" "$dist/release" 2>/dev/null | head -n 1; }

source_version=""
if has_source; then
    source_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' "$source_dir/Cargo.toml" | head -n 1)
fi
release_version=$(recorded version)
wanted="${RELKIT_INSTALL_VERSION:-}"
wanted="${wanted#v}"
[[ -z "$wanted" || "$wanted" =~ ^[0-9]+\.[0-9]+\.[0-9]+([-+][0-9A-Za-z.+-]*)?$ ]] ||
    fail "version '$RELKIT_INSTALL_VERSION' is not a relkit version: it must be X.Y.Z, for example 0.1.0"
[[ -n "$wanted" ]] || wanted="${release_version:-$source_version}"
[[ -n "$wanted" ]] ||
    fail "no version to install: $dist/release names none and $source_dir/Cargo.toml is missing"

if bin=$(command -v relkit); then
    found=$("$bin" --version 2>/dev/null || true)
    if [[ "$found" == "relkit $wanted" ]]; then
        say "Using $bin ($found)"
        printf '%s\n' "$bin"
        exit 0
    fi
    say "Not using $bin (${found:-no version}): the actions here need relkit $wanted"
fi

if [[ -n "${RELKIT_TOOL_CACHE:-}" ]]; then
    cache="$RELKIT_TOOL_CACHE"
elif [[ -n "${RUNNER_TOOL_CACHE:-}" ]]; then
    cache="$RUNNER_TOOL_CACHE/relkit"
elif [[ -n "${XDG_CACHE_HOME:-}" || -n "${HOME:-}" ]]; then
    cache="${XDG_CACHE_HOME:-$HOME/.cache}/relkit"
else
    fail "no place to keep relkit: set RELKIT_TOOL_CACHE (neither RUNNER_TOOL_CACHE nor HOME is set)"
fi

os=$(uname -s | tr '[:upper:]' '[:lower:]')
case "$(uname -m)" in
x86_64 | amd64) arch=x86_64 ;;
aarch64 | arm64) arch=aarch64 ;;
*) arch=$(uname -m) ;;
esac
asset="relkit-$wanted-$os-$arch"

# The sum dist/SHA256SUMS records for the asset (sha256sum's format; `#` lines are comments).
expected=""
if [[ -f "$dist/SHA256SUMS" ]]; then
    expected=$(awk -v name="$asset" \
        '$1 !~ /^#/ && (($2 == name) || ($2 == "*" name)) { print $1; exit }' "$dist/SHA256SUMS")
fi

# Why the release binary is not the one to use, or nothing when it is.
why_not_release=""
if [[ -z "$expected" ]]; then
    why_not_release="dist/SHA256SUMS records no binary $asset"
elif [[ -z "${RELKIT_INSTALL_VERSION:-}" ]] && has_source &&
    [[ "$(source_digest)" != "$(recorded source)" ]]; then
    why_not_release="this source is not the source of release $wanted (it changed since)"
fi

if [[ -z "$why_not_release" ]]; then
    entry="$cache/$wanted/$os-$arch"
    bin="$entry/relkit"
    if [[ -e "$bin" ]]; then
        actual=$(sha256 <"$bin" | cut -d' ' -f1)
        [[ "$actual" == "$expected" ]] ||
            fail "the cached $bin has SHA-256 $actual, but dist/SHA256SUMS records $expected for $asset: delete it, and find out what changed it"
        say "Using $bin (relkit $wanted from the tool cache, SHA-256 $expected)"
        printf '%s\n' "$bin"
        exit 0
    fi

    default_url='https://github.com/relkit/relkit/releases/download/v{version}'
    base="${RELKIT_DOWNLOAD_URL:-$default_url}"
    url="${base//\{version\}/$wanted}"
    url="${url%/}/$asset"
    mkdir -p "$cache" || fail "cannot create the tool cache $cache"
    downloading=$(mktemp -d "$cache/.downloading-XXXXXX")
    trap 'rm -rf "$downloading"' EXIT
    say "Downloading relkit $wanted from $url"
    fetched=false
    if command -v curl >/dev/null; then
        curl --fail --silent --show-error --location --retry 3 --connect-timeout 10 \
            --max-time 300 --output "$downloading/relkit" -- "$url" >&2 && fetched=true
    elif command -v wget >/dev/null; then
        wget --quiet --tries=3 --timeout=30 --output-document="$downloading/relkit" -- "$url" >&2 &&
            fetched=true
    else
        say "Neither curl nor wget is installed to download it"
    fi
    if $fetched; then
        actual=$(sha256 <"$downloading/relkit" | cut -d' ' -f1)
        [[ "$actual" == "$expected" ]] ||
            fail "the binary downloaded from $url has SHA-256 $actual, but dist/SHA256SUMS records $expected for $asset: it was not installed"
        chmod +x "$downloading/relkit"
        mkdir -p "$entry" || fail "cannot create $entry"
        # One rename within the cache: a job running at the same time sees no binary or the
        # whole one (both verified, of the same sum).
        mv -f "$downloading/relkit" "$bin" || fail "cannot move the download into $entry"
        say "Using $bin (relkit $wanted, SHA-256 $expected, kept in the tool cache)"
        printf '%s\n' "$bin"
        exit 0
    fi
    rm -rf "$downloading"
    trap - EXIT
    warn "could not download relkit $wanted from $url (set RELKIT_DOWNLOAD_URL to a mirror of relkit's release binaries); building it from source instead"
    why_not_release="the download failed"
fi

# 3. From source: only this source's own version can be built.
has_source ||
    fail "RELKIT_SOURCE=$source_dir is not relkit's source: it has no Cargo.toml and Cargo.lock ($why_not_release)"
[[ -n "$source_version" ]] || fail "$source_dir/Cargo.toml names no version"
[[ "$source_version" == "$wanted" ]] ||
    fail "relkit $wanted cannot be installed: $why_not_release, and the source here is relkit $source_version"

digest=$(source_digest)
entry="$cache/$source_version-$digest-$os-$arch"
bin="$entry/bin/relkit"

if [[ -x "$bin" ]]; then
    say "Using $bin ($("$bin" --version), built from this source before)"
    printf '%s\n' "$bin"
    exit 0
fi

command -v cargo >/dev/null ||
    fail "relkit $wanted has no release binary to use ($why_not_release) and cargo is not installed to build it: add a step that installs a Rust toolchain (for example dtolnay/rust-toolchain), or put relkit on PATH"

mkdir -p "$cache" || fail "cannot create the tool cache $cache"
building=$(mktemp -d "$cache/.building-XXXXXX")
trap 'rm -rf "$building"' EXIT
say "Building relkit $source_version from $source_dir with cargo, because $why_not_release (once per source; kept in $entry)"
# The build directory lives beside the cache entry, not in the source (which may be read-only)
# and not in /tmp (which may be small).
CARGO_TARGET_DIR="$building/target" cargo install --locked --quiet \
    --path "$source_dir" --root "$building/root" >&2 ||
    fail "cargo could not build relkit $source_version from $source_dir (its messages are above)"
rm -rf "$building/target"
# One rename puts the whole build in place; a job that got there first wins, and its build
# (of the same source) is used. When two jobs rename at once, mv puts the second build inside
# the first (mv -T is GNU only): that copy is removed.
[[ -e "$entry" ]] || mv "$building/root" "$entry" 2>/dev/null || true
rm -rf "${entry:?}/root"
[[ -x "$bin" ]] || fail "cannot move the build into $entry"
say "Using $bin ($("$bin" --version))"
printf '%s\n' "$bin"
