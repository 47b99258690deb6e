# A run's liveness (docs/readers.md#liveness-the-runners-rule-never-a-bare-pid): the rule of the runner's sweep
# (scripts/ci/dev-e2e.sh: classify_run; this file is generated into it by npm run build), so a reader calls lost
# exactly what the next sweep records as lost. Result dirs are compared by their canonical paths.
# RUN_YOUNG_GRACE_S comes from src/rules.ts.
UCI_YOUNG_GRACE_S=@@RUN_YOUNG_GRACE_S@@
# Per pid file (launcher, runner): its valid pid, and uci_pid_runs' answer for it (0, 1, 2; unset without one).
declare -A UCI_PID=() UCI_RC=()
UCI_LIVE=live
UCI_LIVE_WHY=
UCI_PID_SEEN=
UCI_AGE=0

# Is process $1 running a command line that names result dir $2 (the launcher's and the runner's both do)? 0 yes;
# 2 cannot tell (its cmdline is unreadable); 1 no, UCI_PID_SEEN saying why: gone, a zombie, or another program
# under a reused pid (a bare pid is never trusted).
uci_pid_runs() {
  local pid=$1 dir=$2 cmd rest stat
  local -a argv
  UCI_PID_SEEN=gone
  [[ $pid =~ ^[1-9][0-9]{0,9}$ && -e /proc/$pid ]] || return 1
  # Another user's process is never this run's: a dead run's pid can be taken by anyone, with any command line.
  if [[ ! -O /proc/$pid ]]; then
    UCI_PID_SEEN="another user's process"
    return 1
  fi
  stat=
  { IFS= read -r -d '' stat <"/proc/$pid/stat"; } 2>/dev/null
  [[ -n $stat ]] || return 1
  stat=${stat##*) }
  if [[ ${stat:0:1} == [ZX] ]]; then
    UCI_PID_SEEN="a zombie"
    return 1
  fi
  UCI_PID_SEEN="another program"
  # Read by bash itself (mapfile, no process: readers ask this on every poll), one argument a line.
  if ! { mapfile -d '' -t argv <"/proc/$pid/cmdline"; } 2>/dev/null; then
    [[ -e /proc/$pid ]] && return 2
    UCI_PID_SEEN=gone
    return 1
  fi
  printf -v cmd '%s\n' "${argv[@]}"
  rest=$cmd
  while [[ $rest == *"$dir"* ]]; do
    rest=${rest#*"$dir"}
    # /runs/ab must not be taken for /runs/abc.
    [[ ${rest:0:1} != [A-Za-z0-9._-] ]] && return 0
  done
  return 1
}

# Is run dir $1 young (its mtime less than UCI_YOUNG_GRACE_S ago)? UCI_AGE: its age in seconds. A dir dated ahead of
# the clock (the clock was set back after it was made) is young only while it is less than the grace ahead too:
# further ahead it is old at once, never young for ever (docs/decisions.md: future-dated run dirs).
uci_young() {
  local now mtime
  printf -v now '%(%s)T' -1
  mtime=$(stat -c %Y -- "$1" 2>/dev/null) || mtime=$now
  UCI_AGE=$((now - mtime))
  ((UCI_AGE < UCI_YOUNG_GRACE_S && UCI_AGE > -UCI_YOUNG_GRACE_S))
}

# Sets UCI_LIVE (live or dead) and UCI_LIVE_WHY for result dir $1, and UCI_PID / UCI_RC per pid file. Call it before
# reading result.json: a run writes its result before its processes exit, so a dead run will never get one.
uci_liveness() {
  local dir=$1 p pid has_pid=false
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
    if uci_young "$dir"; then
      UCI_LIVE=live
      UCI_LIVE_WHY="started ${UCI_AGE}s ago, no launcher.pid or runner.pid yet"
      ((UCI_AGE >= 0)) || UCI_LIVE_WHY="dated $((-UCI_AGE))s ahead of the clock, no launcher.pid or runner.pid yet"
      return
    fi
    UCI_LIVE_WHY="no launcher.pid or runner.pid after ${UCI_YOUNG_GRACE_S}s"
    ((UCI_AGE < 0)) && UCI_LIVE_WHY+=" (dated $((-UCI_AGE))s in the future: the clock was set back)"
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
