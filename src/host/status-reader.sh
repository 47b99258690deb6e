#!/usr/bin/env bash
# unidesk-ci status reader: fixed and read-only (docs/readers.md); one dispatch per --wait-ms poll.
# Only the quoted values below are substituted. It writes nothing on the host.
set -uo pipefail

UCI_RUNS_ROOT=@@RUNS_ROOT@@
# uci:include runs-root.sh
UCI_RUN_ID=@@RUN_ID@@
UCI_RESULT_CAP=@@RESULT_CAP_BYTES@@
UCI_LINE_CAP=@@LINE_CAP_BYTES@@

UCI_DIR="$UCI_RUNS_ROOT/$UCI_RUN_ID"

# uci:include file-field.sh

# uci:include result-record.sh

# uci:include run-liveness.sh

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
