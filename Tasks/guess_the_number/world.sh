#!/usr/bin/env bash
# World of guess_the_number@1: a rigor-world/1 program in bash (spec/world-protocol.md).
# The runner writes canonical JSON (sorted keys, no spaces), one request per line; this
# script answers each with one line. The hidden number is the first 8 hex digits of the
# runner's keyed world_seed, modulo 1000. Wrong guesses are not terminal: the budget bounds them.
set -u
secret=""
wrong=0
while IFS= read -r line; do
  case "$line" in
    *'"type":"setup"'*)
      if [[ "$line" =~ \"world_seed\":\"([0-9a-f]{64})\" ]]; then
        secret=$(( 16#${BASH_REMATCH[1]:0:8} % 1000 ))
        printf '{"type":"ready","visible_state":{"files_seen":[]}}\n'
      else
        printf '{"type":"error","message":"setup without a world_seed"}\n'
      fi
      ;;
    *'"type":"execute"'*)
      if [[ "$line" =~ \"value\":(-?[0-9]+)(\.0+)?[,}] ]]; then
        value=${BASH_REMATCH[1]}
        if (( value == secret )); then
          hint="correct"; status="success"; message="guessed the number"
        else
          wrong=$(( wrong + 1 ))
          if (( value < secret )); then hint="higher"; else hint="lower"; fi
          status="pending"; message="$wrong wrong guesses"
        fi
        printf '{"type":"result","result":{"ok":true,"hint":"%s"},"io_audit":[{"type":"custom","op":"guess","value":%d}],"visible_state":{"files_seen":[]},"verdict":{"status":"%s","message":"%s"}}\n' \
          "$hint" "$value" "$status" "$message"
      else
        printf '{"type":"error","message":"execute without an integer value"}\n'
      fi
      ;;
    *) printf '{"type":"error","message":"unknown request"}\n' ;;
  esac
done
