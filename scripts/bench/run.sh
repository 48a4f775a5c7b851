#!/usr/bin/env bash
# Runs every benchmark and prints their JSON reports (copy the figures into docs/benchmarks.md).
#   scripts/bench/run.sh [turns]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
echo "building (Release)..." >&2
dotnet build "$root/agent-sidecar.sln" -c Release --nologo -v quiet >&2
dotnet build "$root/scripts/bench/ChatLatency/ChatLatency.csproj" -c Release --nologo -v quiet >&2
"$root/scripts/bench/ChatLatency/bin/Release/net10.0/ChatLatency" "${1:-50}"
