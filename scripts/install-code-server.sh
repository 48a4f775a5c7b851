#!/usr/bin/env bash
# Installs code-server (VS Code in the browser, the real workbench and extension host) into a cache
# folder and prints where it is:
#   CODE_SERVER_BIN=<abs path of bin/code-server>
# Progress goes to stderr; only that line goes to stdout. Used by `npm start` (when `code` is not on
# PATH) and by the extension's end-to-end tests. Idempotent: reinstalls only when the
# ".installed-ok" marker is missing. See ../../shared/docs/vscode-e2e.md for the pitfalls handled here.
#
# Env: AGENT_SIDECAR_CACHE (default $HOME/.cache/agent-sidecar)
#      CODE_SERVER_VERSION (default 4.100.3: VS Code 1.100.3, the newest that runs on Node 20)
set -euo pipefail

VERSION="${CODE_SERVER_VERSION:-4.100.3}"
CACHE_ROOT="${AGENT_SIDECAR_CACHE:-$HOME/.cache/agent-sidecar}"
PREFIX="$CACHE_ROOT/code-server-$VERSION"
MARKER=".installed-ok"
# The ripgrep version that @vscode/ripgrep 1.15.11 (code-server 4.100.x) downloads from GitHub.
RG_CACHE_NAME="vscode-ripgrep-cache-1.15.11"
RG_ARCHIVE="ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz"

log() { printf 'install-code-server: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

bin="$PREFIX/node_modules/code-server/out/node/entry.js"
launcher="$PREFIX/node_modules/.bin/code-server"
if [ -f "$PREFIX/$MARKER" ] && [ -x "$launcher" ]; then
  log "code-server@$VERSION already installed in $PREFIX"
  printf 'CODE_SERVER_BIN=%s\n' "$launcher"
  exit 0
fi

command -v node >/dev/null 2>&1 || die "node not found"
mkdir -p "$CACHE_ROOT"
exec 9>"$CACHE_ROOT/.code-server-install.lock"
flock -w 900 9 || die "timed out waiting for another install"
if [ -f "$PREFIX/$MARKER" ] && [ -x "$launcher" ]; then
  printf 'CODE_SERVER_BIN=%s\n' "$launcher"
  exit 0
fi

# Native modules (kerberos, node-pty) build from source; ripgrep comes from Debian.
missing=()
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
[ -f /usr/include/gssapi/gssapi.h ] || [ -f /usr/include/krb5.h ] || missing+=(libkrb5-dev)
if [ "${#missing[@]}" -gt 0 ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    log "installing ${missing[*]} with apt-get"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2 \
      || { apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2; } \
      || die "apt-get install ${missing[*]} failed"
  else
    die "missing ${missing[*]}: install them (apt-get install ${missing[*]})"
  fi
fi

tmp="$(mktemp -d "$CACHE_ROOT/.tmp-code-server-$VERSION.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
# @vscode/ripgrep downloads rg from GitHub unless its archive is already in $TMPDIR's cache.
mkdir -p "$tmp/tmp/$RG_CACHE_NAME" "$tmp/rg"
cp "$(command -v rg)" "$tmp/rg/rg"
tar -czf "$tmp/tmp/$RG_CACHE_NAME/$RG_ARCHIVE" -C "$tmp/rg" rg
printf '{"name":"agent-sidecar-code-server","private":true}\n' > "$tmp/package.json"
log "installing code-server@$VERSION into $PREFIX (about a minute)..."
# unsafe_perm: its postinstall refuses root otherwise; yes: node-pty runs `npx node-gyp`.
if ! TMPDIR="$tmp/tmp" npm_config_unsafe_perm=true npm_config_yes=true \
    npm install --prefix "$tmp" --no-audit --no-fund --no-update-notifier --loglevel=error \
    --save-exact "code-server@$VERSION" >&2; then
  die "npm install code-server@$VERSION failed"
fi
rm -rf "$tmp/tmp" "$tmp/rg"
date -u +%FT%TZ > "$tmp/$MARKER"
rm -rf "$PREFIX"
mv "$tmp" "$PREFIX"
trap - EXIT
[ -f "$bin" ] || die "code-server entry not found at $bin"
log "installed code-server@$VERSION"
printf 'CODE_SERVER_BIN=%s\n' "$launcher"
