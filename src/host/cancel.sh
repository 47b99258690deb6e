#!/usr/bin/env bash
# unidesk-ci cancel (docs/readers.md): writes nothing; TERMs only this run's runner or launcher.
set -uo pipefail
UCI_RUNS_ROOT=@@RUNS_ROOT@@
UCI_RUN_ID=@@RUN_ID@@
d="$UCI_RUNS_ROOT/$UCI_RUN_ID"
n=$'\n'

uci_term() {
  local pid args
  pid=$(head -c 32 -- "$d/$1.pid" 2>/dev/null | tr -dc '0-9')
  args=$(tr '\0' '\n' 2>/dev/null <"/proc/${pid:-0}/cmdline") || return 1
  [[ $args == *"$2"* ]] && kill -TERM "$pid" 2>/dev/null && printf 'outcome\tsignalled\t%s\t%s\n' "$1" "$pid"
}

uci_finished() {
  local re='"status": *"([a-z]+)"' s=-
  [[ -f $d/result.json ]] || return 1
  [[ $(head -c 65536 -- "$d/result.json") =~ $re ]] && s=${BASH_REMATCH[1]}
  printf 'outcome\tfinished\t%s\n' "$s"
}

printf 'unidesk-ci-cancel\t1\nrunid\t%s\n' "$UCI_RUN_ID"
if [[ ! -d $d ]]; then
  printf 'outcome\tabsent\n'
elif ! uci_finished && ! uci_term runner "runner.sh$n--run-id$n$UCI_RUN_ID$n" &&
  ! uci_term launcher "${n}declare -- UCI_RUN_ID=\"$UCI_RUN_ID\"$n" && ! uci_finished; then
  printf 'outcome\tstale\n'
fi
printf 'end\n'
