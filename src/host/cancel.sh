#!/usr/bin/env bash
# unidesk-ci cancel (docs/readers.md): writes nothing; TERMs only this run's runner or launcher, proven by the
# liveness rule (its /proc/<pid>/cmdline names the run's result dir), never a bare pid.
set -uo pipefail
UCI_RUNS_ROOT=@@RUNS_ROOT@@
# uci:include runs-root.sh
UCI_RUN_ID=@@RUN_ID@@
UCI_RESULT_CAP=@@RESULT_CAP_BYTES@@

# uci:include run-liveness.sh

# TERM to the process of pid file $1 (runner or launcher) when uci_liveness proved it this run's.
uci_term() {
  local pid=${UCI_PID[$1]-}
  [[ -n $pid && ${UCI_RC[$1]} == 0 ]] && kill -TERM "$pid" 2>/dev/null && printf 'outcome\tsignalled\t%s\t%s\n' "$1" "$pid"
}

# uci:include result-record.sh

# Any result.json, even a corrupt one, means the run is over; the CLI judges what it says.
uci_finished() {
  [[ -e $d/@@=RESULT_FILE@@ || -L $d/@@=RESULT_FILE@@ ]] || return 1
  printf 'outcome\tfinished\n'
  uci_result_record "$d"
}

# uci:include run-ref.sh

printf 'unidesk-ci-cancel\t1\n'
uci_runs_root
# @latest / @latest-failed: the run it names, in this same dispatch.
uci_resolve_ref
d="$UCI_RUNS_ROOT/$UCI_RUN_ID"
printf 'runid\t%s\n' "$UCI_RUN_ID"
if [[ $UCI_RUN_ID == @* || ! -d $d ]]; then
  printf 'outcome\tabsent\n'
elif ! uci_finished; then
  uci_liveness "$d"
  # Checked after the pids, as the sweep does: a run writes result.json before its processes exit.
  if ! uci_term runner && ! uci_term launcher && ! uci_finished; then
    # lost: nothing of it alive; unproven: alive as far as the rule can tell, but no process proven its own.
    if [[ $UCI_LIVE == dead ]]; then
      printf 'outcome\tlost\t%s\n' "$UCI_LIVE_WHY"
    else
      printf 'outcome\tunproven\t%s\n' "$UCI_LIVE_WHY"
    fi
  fi
fi
printf 'end\n'
