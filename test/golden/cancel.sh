#!/usr/bin/env bash
# unidesk-ci cancel (docs/readers.md): writes nothing; TERMs only this run's runner or launcher.
set -uo pipefail
UCI_RUNS_ROOT='/home/ubuntu/.unidesk/runs'
UCI_RUN_ID='dev-20261127-162626-k3x9a2'
UCI_RESULT_CAP='65536'
d="$UCI_RUNS_ROOT/$UCI_RUN_ID"
n=$'\n'

uci_term() {
  local pid args
  pid=$(head -c 32 -- "$d/$1.pid" 2>/dev/null | tr -dc '0-9')
  args=$(tr '\0' '\n' 2>/dev/null <"/proc/${pid:-0}/cmdline") || return 1
  [[ $args == *"$2"* ]] && kill -TERM "$pid" 2>/dev/null && printf 'outcome\tsignalled\t%s\t%s\n' "$1" "$pid"
}

# result.json as one record, judged by the CLI (src/host/result.ts): "result\tb64:<its first UCI_RESULT_CAP
# bytes>\t<size>", "result\t-\t0" when there is none, "result\t!\t0" when it is no readable regular file.
uci_result_record() {
  local f=$1/result.json data size
  if [[ ! -e $f && ! -L $f ]]; then
    printf 'result\t-\t0\n'
  elif [[ -f $f && ! -L $f ]] && size=$(stat -c %s -- "$f" 2>/dev/null) &&
    data=$(head -c "$UCI_RESULT_CAP" -- "$f" 2>/dev/null | base64 -w0); then
    printf 'result\tb64:%s\t%s\n' "$data" "$size"
  else
    printf 'result\t!\t0\n'
  fi
}

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
