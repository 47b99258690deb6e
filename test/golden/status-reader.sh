#!/usr/bin/env bash
# unidesk-ci status reader: fixed and read-only (docs/readers.md); one dispatch per --wait-ms poll.
# Only the quoted values below are substituted. It writes nothing on the host.
set -uo pipefail

UCI_RUNS_ROOT='/home/ubuntu/.unidesk/runs'
# The runs root by its canonical path, as the launcher writes it into its and the runner's command lines: the
# liveness rule compares those as text, so a symlinked root must not make a live run look lost.
UCI_RUNS_ROOT=$(realpath -m -- "$UCI_RUNS_ROOT")
UCI_RUN_ID='dev-20261127-162626-k3x9a2'
UCI_RESULT_CAP='262144'
UCI_LINE_CAP='1024'

UCI_DIR="$UCI_RUNS_ROOT/$UCI_RUN_ID"

# "b64:<base64 of at most cap ($2) leading bytes of file $1>", or "-" when it is absent, a symlink or unreadable.
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

# A run's liveness (docs/readers.md#liveness-the-runners-rule-never-a-bare-pid): the rule of the runner's sweep
# (scripts/ci/dev-e2e.sh: classify_run; this file is generated into it by npm run build), so a reader calls lost
# exactly what the next sweep records as lost. Result dirs are compared by their canonical paths.
# RUN_YOUNG_GRACE_S comes from src/rules.ts.
UCI_YOUNG_GRACE_S='60'
# Per pid file (launcher, runner): its valid pid, and uci_pid_runs' answer for it (0, 1, 2; unset without one).
declare -A UCI_PID=() UCI_RC=()
UCI_LIVE=live
UCI_LIVE_WHY=
UCI_PID_SEEN=

# Is process $1 running a command line that names result dir $2 (the launcher's and the runner's both do)? 0 yes;
# 2 cannot tell (its cmdline is unreadable); 1 no, UCI_PID_SEEN saying why: gone, a zombie, or another program
# under a reused pid (a bare pid is never trusted).
uci_pid_runs() {
  local pid=$1 dir=$2 cmd rest stat
  UCI_PID_SEEN=gone
  [[ $pid =~ ^[1-9][0-9]{0,9}$ && -e /proc/$pid ]] || return 1
  { stat=$(<"/proc/$pid/stat"); } 2>/dev/null || return 1
  stat=${stat##*) }
  if [[ ${stat:0:1} == [ZX] ]]; then
    UCI_PID_SEEN="a zombie"
    return 1
  fi
  UCI_PID_SEEN="another program"
  if ! cmd=$(tr '\0' '\n' 2>/dev/null <"/proc/$pid/cmdline"); then
    [[ -e /proc/$pid ]] && return 2
    UCI_PID_SEEN=gone
    return 1
  fi
  rest=$cmd$'\n'
  while [[ $rest == *"$dir"* ]]; do
    rest=${rest#*"$dir"}
    # /runs/ab must not be taken for /runs/abc.
    [[ ${rest:0:1} != [A-Za-z0-9._-] ]] && return 0
  done
  return 1
}

# Sets UCI_LIVE (live or dead) and UCI_LIVE_WHY for result dir $1, and UCI_PID / UCI_RC per pid file. Call it before
# reading result.json: a run writes its result before its processes exit, so a dead run will never get one.
uci_liveness() {
  local dir=$1 p pid has_pid=false now mtime
  UCI_LIVE=dead
  UCI_LIVE_WHY=
  UCI_PID=()
  UCI_RC=()
  if [[ ! -r /proc/self/cmdline ]]; then
    UCI_LIVE=live
    UCI_LIVE_WHY="/proc is not readable, so no run can be proven dead"
    return
  fi
  for p in launcher runner; do
    [[ -f $dir/$p.pid ]] || continue
    has_pid=true
    pid=""
    read -r pid 2>/dev/null <"$dir/$p.pid"
    uci_pid_runs "$pid" "$dir"
    UCI_RC[$p]=$?
    [[ $pid =~ ^[1-9][0-9]{0,9}$ ]] && UCI_PID[$p]=$pid
    [[ $pid =~ ^[0-9]{1,10}$ ]] || pid="?"
    case ${UCI_RC[$p]} in
      0) [[ $UCI_LIVE == live ]] || UCI_LIVE_WHY="$p.pid $pid runs it" ;;
      2) [[ $UCI_LIVE == live ]] || UCI_LIVE_WHY="cannot read /proc/$pid/cmdline of $p.pid $pid; treating the run as live" ;;
      *) [[ $UCI_LIVE == live ]] || UCI_LIVE_WHY+="${UCI_LIVE_WHY:+, }$p.pid $pid is $UCI_PID_SEEN" ;;
    esac
    ((UCI_RC[$p] == 1)) || UCI_LIVE=live
  done
  if ! $has_pid; then
    printf -v now '%(%s)T' -1
    mtime=$(stat -c %Y -- "$dir" 2>/dev/null) || mtime=$now
    if ((now - mtime < UCI_YOUNG_GRACE_S)); then
      UCI_LIVE=live
      UCI_LIVE_WHY="started $((now - mtime))s ago, no launcher.pid or runner.pid yet"
      return
    fi
    UCI_LIVE_WHY="no launcher.pid or runner.pid after ${UCI_YOUNG_GRACE_S}s"
  fi
}

# After uci_liveness: "<pid>\t<alive|dead>" for pid file $1 (launcher or runner), alive as the rule counts it, or
# "-\tnone" without a valid pid in it.
uci_process_field() {
  if [[ -z ${UCI_PID[$1]-} ]]; then
    printf -- '-\tnone'
  elif ((UCI_RC[$1] == 1)); then
    printf '%s\tdead' "${UCI_PID[$1]}"
  else
    printf '%s\talive' "${UCI_PID[$1]}"
  fi
}

# After uci_liveness: the record "liveness\t<live|dead>\t<why>".
uci_liveness_record() {
  printf 'liveness\t%s\t%s\n' "$UCI_LIVE" "$UCI_LIVE_WHY"
}

# The last line of a log (its last cap bytes at most), as a field like uci_file_field.
uci_last_line_field() {
  local data
  [[ -f $1 && ! -L $1 ]] || { printf -- '-'; return; }
  data=$(tail -c 65536 -- "$1" | tail -n 1 | tail -c "$UCI_LINE_CAP" | base64 -w0) || { printf -- '-'; return; }
  printf 'b64:%s' "$data"
}

printf 'unidesk-ci-status\t1\n'
printf 'runid\t%s\n' "$UCI_RUN_ID"
if [[ ! -d $UCI_DIR ]]; then
  printf 'run\tabsent\nend\n'
  exit 0
fi
printf 'run\tpresent\n'
# Liveness before result.json, as the runner's sweep judges it.
uci_liveness "$UCI_DIR"
printf 'launcher\t%s\n' "$(uci_process_field launcher)"
printf 'runner\t%s\n' "$(uci_process_field runner)"
uci_liveness_record
printf 'pipelinerun\t%s\n' "$(uci_file_field "$UCI_DIR/pipelinerun.txt" 1024)"
uci_result_record "$UCI_DIR"
printf 'launcherlog\t%s\n' "$(uci_last_line_field "$UCI_DIR/launcher.log")"
printf 'runnerlog\t%s\n' "$(uci_last_line_field "$UCI_DIR/runner.log")"
printf 'end\n'
