#!/usr/bin/env bash
# hook.sh LOGFILE EVENT : appends {"epoch":..., "event":..., "stdin":...} to LOGFILE
t=$(date +%s.%N); in=$(cat)
printf '{"epoch":%s,"event":"%s","stdin":%s}\n' "$t" "$2" "${in:-null}" >> "$1"
