#!/usr/bin/env bash
# unidesk-ci status reader: fixed and read-only (docs/readers.md); one dispatch per --wait-ms poll.
# Only the quoted values below are substituted. It writes nothing on the host.
set -uo pipefail

UCI_RUNS_ROOT='/home/ubuntu/.unidesk/runs'
UCI_RUN_ID='dev-20261127-162626-k3x9a2'
UCI_RESULT_CAP='65536'
UCI_LINE_CAP='1024'

UCI_DIR="$UCI_RUNS_ROOT/$UCI_RUN_ID"

# "b64:<base64 of at most cap leading bytes>", or "-" when the file is absent or unreadable.
uci_file_field() {
  local data
  [[ -f $1 && ! -L $1 ]] || { printf -- '-'; return; }
  data=$(head -c "$2" -- "$1" | base64 -w0) || { printf -- '-'; return; }
  printf 'b64:%s' "$data"
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

# The last line of a log (its last cap bytes at most), as a field like uci_file_field.
uci_last_line_field() {
  local data
  [[ -f $1 && ! -L $1 ]] || { printf -- '-'; return; }
  data=$(tail -c 65536 -- "$1" | tail -n 1 | tail -c "$UCI_LINE_CAP" | base64 -w0) || { printf -- '-'; return; }
  printf 'b64:%s' "$data"
}

# "<pid>\t<alive|dead>" from a pid file, or "-\tnone" without one.
uci_pid_field() {
  local pid
  [[ -f $1 ]] || { printf -- '-\tnone'; return; }
  pid=$(head -c 32 -- "$1" 2>/dev/null | tr -dc '0-9')
  [[ -n $pid ]] || { printf -- '-\tnone'; return; }
  if uci_is_alive "$pid"; then
    printf '%s\talive' "$pid"
  else
    printf '%s\tdead' "$pid"
  fi
}

# A zombie (exited, not yet reaped) counts as dead; /proc also sees other users' processes.
uci_is_alive() {
  local stat
  if [[ -r /proc/$1/stat ]]; then
    stat=$(head -c 1024 -- "/proc/$1/stat" 2>/dev/null) || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
  else
    kill -0 "$1" 2>/dev/null
  fi
}

printf 'unidesk-ci-status\t1\n'
printf 'runid\t%s\n' "$UCI_RUN_ID"
if [[ ! -d $UCI_DIR ]]; then
  printf 'run\tabsent\nend\n'
  exit 0
fi
printf 'run\tpresent\n'
printf 'launcher\t%s\n' "$(uci_pid_field "$UCI_DIR/launcher.pid")"
printf 'runner\t%s\n' "$(uci_pid_field "$UCI_DIR/runner.pid")"
printf 'pipelinerun\t%s\n' "$(uci_file_field "$UCI_DIR/pipelinerun.txt" 1024)"
uci_result_record "$UCI_DIR"
printf 'launcherlog\t%s\n' "$(uci_last_line_field "$UCI_DIR/launcher.log")"
printf 'runnerlog\t%s\n' "$(uci_last_line_field "$UCI_DIR/runner.log")"
printf 'end\n'
