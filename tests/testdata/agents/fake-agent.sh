#!/usr/bin/env bash
# A scripted fake agent for the sidecar's tests. It behaves like a terminal AI agent: OSC 7501
# state marks (idle / working / done / error, as Codex writes them), a "› " prompt, answers drawn
# as "• text". Messages choose the behaviour:
#   slow …   ten words, 0.3 s apart; Esc interrupts     fail …   an error mark and message
#   die …    exits with code 3 mid-turn                  multi …  a two-line answer
#   hang …   starts an answer and never marks it done (the turn must end on the sidecar's idle rule)
#   ask CMD  asks before it runs CMD, the way Codex does; y (or Enter on the selected line) runs it,
#            Esc (or n) rejects it; the prompt is erased once answered
#   /quit    exits 0          /clear  starts over (n=0)   else     "ECHO[n]:<message>" (n counts turns)
# FAKE_NEVER_READY=1 never becomes ready; FAKE_READY_DELAY=S waits before it does.
osc() { printf '\033]7501;state=%s\033\\' "$1"; }
[ -n "${FAKE_READY_DELAY:-}" ] && sleep "$FAKE_READY_DELAY"
if [ -n "${FAKE_NEVER_READY:-}" ]; then printf 'loading the model forever...\n'; sleep 1000; fi
printf 'Fake agent 1.0 in %s\n' "$PWD"
osc idle
n=0
while true; do
  printf '› '
  IFS= read -r line || exit 0
  case "$line" in
    /quit) exit 0 ;;
    /clear) n=0; printf 'conversation cleared\n'; osc idle; continue ;;
  esac
  n=$((n + 1))
  osc working
  case "$line" in
    die*) printf 'fatal: the fake agent crashed\n'; exit 3 ;;
    fail*) printf '■ upstream error 500\n'; osc error ;;
    ask\ *)
      cmd="${line#ask }"
      printf '  Would you like to run the following command?\n  $ %s\n› 1. Yes, proceed (y)\n  2. No, and tell me what to do differently (esc)\n' "$cmd"
      IFS= read -r -s -n1 key
      printf '\033[4A\033[J'
      case "$key" in
        y|1|"") printf '• Ran %s\n' "$cmd"; out=$(eval "$cmd" 2>&1); printf '  %s\n' "$out"; printf '• done: %s\n' "$cmd" ;;
        *) printf '• Rejected: %s\n' "$cmd" ;;
      esac
      osc done ;;
    hang*) printf '• thinking about %s\n' "$line" ;;
    multi*) printf '• first line of %s\n  second line\n' "$line"; osc done ;;
    slow*)
      printf '• '
      for w in one two three four five six seven eight nine ten; do
        if IFS= read -r -s -n1 -t 0.3 key && [ "$key" = $'\033' ]; then
          printf '\n■ interrupted\n'; osc idle; continue 2
        fi
        printf '%s ' "$w"
      done
      printf '\n'; osc done ;;
    *) printf '• ECHO[%d]:%s\n' "$n" "$line"; osc done ;;
  esac
done
