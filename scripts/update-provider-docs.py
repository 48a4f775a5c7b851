#!/usr/bin/env python3
"""Puts the built-in provider profiles (as `agent-sidecar --print-providers` prints them, read from
stdin) into docs/providers.md's "The built-in profiles" block. A test keeps the two in step."""
import pathlib
import sys

doc = pathlib.Path(__file__).resolve().parent.parent / "docs" / "providers.md"
lines = doc.read_text().split("\n")
start = next(i for i, l in enumerate(lines) if l.startswith("## The built-in profiles"))
begin = next(i for i in range(start, len(lines)) if lines[i] == "```json")
end = next(i for i in range(begin + 1, len(lines)) if lines[i] == "```")
lines[begin + 1:end] = sys.stdin.read().rstrip("\n").split("\n")
doc.write_text("\n".join(lines))
