#!/usr/bin/env bash
# unidesk-ci cancel (docs/readers.md): writes nothing; TERMs only this run's runner or launcher.
set -uo pipefail
UCI_RUNS_ROOT=@@RUNS_ROOT@@
UCI_RUN_ID=@@RUN_ID@@
UCI_RESULT_CAP=@@RESULT_CAP_BYTES@@
d="$UCI_RUNS_ROOT/$UCI_RUN_ID"
n=$'\n'

uci_term() {
  local pid args
  pid=$(head -c 32 -- "$d/$1.pid" 2>/dev/null | tr -dc '0-9')
  args=$(tr '\0' '\n' 2>/dev/null <"/proc/${pid:-0}/cmdline") || return 1
  [[ $args == *"$2"* ]] && kill -TERM "$pid" 2>/dev/null && printf 'outcome\tsignalled\t%s\t%s\n' "$1" "$pid"
}

# uci:include result-record.sh

# Any result.json, even a corrupt one, means the run is over; the CLI judges what it says.
uci_finished() {
  [[ -e $d/result.json || -L $d/result.json ]] || return 1
  printf 'outcome\tfinished\n'
  uci_result_record "$d"
}

printf 'unidesk-ci-cancel\t1\nrunid\t%s\n' "$UCI_RUN_ID"
if [[ ! -d $d ]]; then
  printf 'outcome\tabsent\n'
elif ! uci_finished && ! uci_term runner "runner.sh$n--run-id$n$UCI_RUN_ID$n" &&
  ! uci_term launcher "${n}declare -- UCI_RUN_ID=\"$UCI_RUN_ID\"$n" && ! uci_finished; then
  printf 'outcome\tstale\n'
fi
printf 'end\n'
