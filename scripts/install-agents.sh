#!/usr/bin/env bash
# Installs the pinned agent CLIs (OpenAI Codex, Augment Auggie, Claude Code) into a cache folder and
# prints where their executables are:
#   CODEX_BIN=<abs path of the static codex binary>
#   AUGGIE_BIN=<abs path of auggie's launcher (augment.mjs, a node ESM bundle with a shebang)>
#   CLAUDE_BIN=<abs path of Claude Code's native binary (from its per-platform npm package)>
# Progress goes to stderr; only the three lines above go to stdout.
# Idempotent: a package is reinstalled only when its ".installed-ok" marker is missing.
#
# Env: AGENT_SIDECAR_CACHE (default $HOME/.cache/agent-sidecar)
#      CODEX_VERSION / AUGGIE_VERSION / CLAUDE_VERSION override the pins (for trying a newer release).
set -euo pipefail

CODEX_VERSION="${CODEX_VERSION:-0.169.0}"
AUGGIE_VERSION="${AUGGIE_VERSION:-0.36.0}"
CLAUDE_VERSION="${CLAUDE_VERSION:-2.1.332}"
CACHE_ROOT="${AGENT_SIDECAR_CACHE:-$HOME/.cache/agent-sidecar}"
AGENTS_DIR="$CACHE_ROOT/agents"
MARKER=".installed-ok"

log() { printf 'install-agents: %s\n' "$*" >&2; }
die() { log "error: $*"; exit 1; }

command -v node >/dev/null 2>&1 || die "node not found (Node >= 20 is needed)"
command -v npm  >/dev/null 2>&1 || die "npm not found"
node_major="$(node -p 'process.versions.node.split(".")[0]')"
[ "$node_major" -ge 20 ] || die "node $(node --version) is too old; auggie needs >= 20"

# Codex ships one npm package per platform (optional dependency aliased as @openai/codex-<plat>);
# the JS wrapper only execs the static binary found there.
codex_platform() {
  local os arch
  os="$(uname -s)"; arch="$(uname -m)"
  case "$os/$arch" in
    Linux/x86_64)          echo "linux-x64 x86_64-unknown-linux-musl" ;;
    Linux/aarch64|Linux/arm64) echo "linux-arm64 aarch64-unknown-linux-musl" ;;
    Darwin/x86_64)         echo "darwin-x64 x86_64-apple-darwin" ;;
    Darwin/arm64)          echo "darwin-arm64 aarch64-apple-darwin" ;;
    *) die "unsupported platform $os/$arch" ;;
  esac
}

# install_pkg <npm name> <version> <dir name>  -> prints the install prefix
install_pkg() {
  local name="$1" version="$2" dirname="$3"
  local prefix="$AGENTS_DIR/$dirname-$version"
  if [ -f "$prefix/$MARKER" ]; then
    log "$name@$version already installed in $prefix"
    printf '%s\n' "$prefix"; return 0
  fi
  log "installing $name@$version into $prefix ..."
  mkdir -p "$AGENTS_DIR"
  # Install into a temporary sibling and rename on success, so an interrupted run never leaves a
  # half-installed folder that looks complete.
  local tmp
  tmp="$(mktemp -d "$AGENTS_DIR/.tmp-$dirname-$version.XXXXXX")"
  # A minimal package.json keeps npm from walking up to some unrelated project.
  printf '{"name":"agent-sidecar-agents","private":true}\n' > "$tmp/package.json"
  if ! npm install --prefix "$tmp" --no-audit --no-fund --no-update-notifier \
        --loglevel=error --save-exact "$name@$version" >&2; then
    rm -rf "$tmp"; die "npm install $name@$version failed"
  fi
  date -u +%FT%TZ > "$tmp/$MARKER"
  rm -rf "$prefix"
  mv "$tmp" "$prefix"
  log "installed $name@$version"
  printf '%s\n' "$prefix"
}

# Claude Code ships its native binary in one npm package per platform (optional dependencies
# @anthropic-ai/claude-code-<plat>); the main package's postinstall hard-links it to bin/claude.exe.
claude_platform() {
  local os arch musl=""
  os="$(uname -s)"; arch="$(uname -m)"
  if [ "$os" = Linux ] && ! ldd --version 2>&1 | grep -qi glibc; then
    ldd --version 2>&1 | grep -qi musl && musl="-musl"
  fi
  case "$os/$arch" in
    Linux/x86_64)              echo "linux-x64$musl" ;;
    Linux/aarch64|Linux/arm64) echo "linux-arm64$musl" ;;
    Darwin/x86_64)             echo "darwin-x64" ;;
    Darwin/arm64)              echo "darwin-arm64" ;;
    *) die "unsupported platform $os/$arch" ;;
  esac
}

read -r codex_plat codex_triple <<<"$(codex_platform)"

# Two test runs starting at once must not install over each other: serialize on a lock file.
mkdir -p "$AGENTS_DIR"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$AGENTS_DIR/.install.lock"
  flock -w 900 9 || die "timed out waiting for another install (lock $AGENTS_DIR/.install.lock)"
fi

codex_prefix="$(install_pkg @openai/codex "$CODEX_VERSION" codex)"
codex_bin="$codex_prefix/node_modules/@openai/codex-$codex_plat/vendor/$codex_triple/bin/codex"
if [ ! -x "$codex_bin" ]; then
  # Layout changed? search for it before giving up.
  found="$(find "$codex_prefix/node_modules" -path "*/vendor/$codex_triple/*" -type f -name codex 2>/dev/null | head -n1 || true)"
  [ -n "$found" ] || die "codex binary not found under $codex_prefix (expected $codex_bin)"
  codex_bin="$found"
fi

auggie_prefix="$(install_pkg @augmentcode/auggie "$AUGGIE_VERSION" auggie)"
auggie_pkg="$auggie_prefix/node_modules/@augmentcode/auggie"
auggie_rel="$(node -e '
  const p = require(process.argv[1] + "/package.json");
  const b = typeof p.bin === "string" ? p.bin : (p.bin && (p.bin.auggie || Object.values(p.bin)[0]));
  if (!b) process.exit(2);
  process.stdout.write(b);' "$auggie_pkg")" || die "no bin entry in $auggie_pkg/package.json"
auggie_bin="$(cd "$auggie_pkg" && cd "$(dirname "$auggie_rel")" && pwd)/$(basename "$auggie_rel")"
[ -f "$auggie_bin" ] || die "auggie launcher not found at $auggie_bin"
chmod +x "$auggie_bin" 2>/dev/null || true

claude_prefix="$(install_pkg @anthropic-ai/claude-code "$CLAUDE_VERSION" claude-code)"
claude_bin="$claude_prefix/node_modules/@anthropic-ai/claude-code-$(claude_platform)/claude"
if [ ! -x "$claude_bin" ]; then
  # The platform package did not land where expected (layout change, or npm skipped the optional
  # dependency): the postinstall's copy in the main package is the same binary when it ran.
  claude_bin="$claude_prefix/node_modules/@anthropic-ai/claude-code/bin/claude.exe"
  "$claude_bin" --version >/dev/null 2>&1 || die "claude binary not found under $claude_prefix"
fi

log "codex:  $("$codex_bin" --version 2>/dev/null || echo '?')"
log "auggie: $(node "$auggie_bin" --version 2>/dev/null || echo '?')"
log "claude: $("$claude_bin" --version 2>/dev/null || echo '?')"

printf 'CODEX_BIN=%s\n' "$codex_bin"
printf 'AUGGIE_BIN=%s\n' "$auggie_bin"
printf 'CLAUDE_BIN=%s\n' "$claude_bin"
