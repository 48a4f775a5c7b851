#!/usr/bin/env bash
# VtFeed built against a base commit's terminal emulator and against this working tree, run
# alternately (base, tree, base, tree, ...), then the best MB/s of each per case.
#   scripts/bench/VtFeed/compare.sh [base-ref=HEAD] [megabytes=200] [runs=3] [case...]
# Also checks that both builds leave the same screen (fingerprints) for every case.
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../../.." && pwd)"
base="${1:-HEAD}"; mb="${2:-200}"; runs="${3:-3}"; shift $(( $# < 3 ? $# : 3 ))
tmp="$(mktemp -d)"
trap 'rm -rf "$tmp"' EXIT
lock=(); command -v flock >/dev/null && lock=(flock /tmp/dotnet-build.lock)

# The base: its terminal project and build settings, with this benchmark's source.
git -C "$root" archive "$base" src/AgentSidecar.Terminal Directory.Build.props Directory.Packages.props global.json .editorconfig | tar -x -C "$tmp"
mkdir -p "$tmp/scripts/bench/VtFeed"
cp "$here/VtFeed.csproj" "$here/Program.cs" "$tmp/scripts/bench/VtFeed/"
echo "building $base and the working tree (Release)..." >&2
"${lock[@]}" dotnet build "$tmp/scripts/bench/VtFeed/VtFeed.csproj" -c Release --nologo -v quiet >&2
"${lock[@]}" dotnet build "$here/VtFeed.csproj" -c Release --nologo -v quiet >&2
before="$tmp/scripts/bench/VtFeed/bin/Release/net10.0/VtFeed"
after="$here/bin/Release/net10.0/VtFeed"

for run in $(seq "$runs"); do
  "$before" "$mb" 1 "$@" | sed "s/^/before /"
  "$after" "$mb" 1 "$@" | sed "s/^/after  /"
done | tee "$tmp/out"

echo "--- best of $runs runs, $mb MiB each (MB/s = 10^6 bytes/s); loadavg now $(cat /proc/loadavg)"
awk '$2 != "#" {
       key = $2; build = $1
       if ($4 > best[build, key]) best[build, key] = $4
       fp[build, key] = $8; cases[key] = 1
     }
     END {
       for (key in cases) {
         same = fp["before", key] == fp["after", key] ? "same screen" : "SCREENS DIFFER"
         printf "%-8s before %8.1f  after %8.1f  x%.2f  %s\n", key, best["before", key], best["after", key],
                best["after", key] / best["before", key], same
       }
     }' "$tmp/out" | sort
