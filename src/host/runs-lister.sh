#!/usr/bin/env bash
# unidesk-ci runs lister: fixed and read-only (docs/readers.md); the newest run dirs under the runs root,
# a few small files of each (result.json, pipelinerun.txt, pid files, the head of launcher.log).
# Only the quoted values below are substituted. It writes nothing on the host.
set -uo pipefail

UCI_RUNS_ROOT=@@RUNS_ROOT@@
# uci:include runs-root.sh
UCI_LIMIT=@@LIMIT@@
UCI_RESULT_CAP=@@RESULT_CAP_BYTES@@
UCI_DEPLOY_CAP=@@DEPLOY_CAP_BYTES@@
UCI_STATUS=@@STATUS@@
# @@RULES FULL_SHA@@

# uci:include file-field.sh

# uci:include run-liveness.sh

# Run dir $1's manifest commit: the launcher's owner record (manifest-commit, written before anything else: a
# launcher that died at once named it), else the one it logged first ("launcher accepted run …: … commit <sha> …"),
# or "-".
uci_commit_field() {
  local head="" f=$1/@@=COMMIT_FILE@@ log=$1/@@=LAUNCHER_LOG@@
  [[ -f $f && ! -L $f ]] && head="commit $(head -c 41 -- "$f" 2>/dev/null | tr -d '\000\n')"
  [[ $head =~ ^commit\ ${UCI_RE_FULL_SHA:1} ]] || { [[ -f $log && ! -L $log ]] && head=$(head -c 2048 -- "$log" 2>/dev/null | tr -d '\000'); }
  if [[ $head =~ commit\ (${UCI_RE_FULL_SHA:1:-1}) ]]; then printf '%s' "${BASH_REMATCH[1]}"; else printf -- '-'; fi
}

printf 'unidesk-ci-runs\t1\n'
uci_runs_root
if [[ ! -d $UCI_RUNS_ROOT ]]; then
  printf 'root\tabsent\nend\t0\t0\n'
  exit 0
fi
printf 'root\tpresent\n'

# uci:include run-ref.sh

# The status word a run lists with, for --status (the CLI judges result.json again): result.json's status
# (corrupt when it names none), else running or lost by the liveness rule (uci_liveness first).
uci_status_word() {
  local head
  if [[ -e $1/@@=RESULT_FILE@@ || -L $1/@@=RESULT_FILE@@ ]]; then
    head=$(head -c "$UCI_RESULT_CAP" -- "$1/@@=RESULT_FILE@@" 2>/dev/null | tr -d '\000')
    if [[ -f $1/@@=RESULT_FILE@@ && ! -L $1/@@=RESULT_FILE@@ && $head =~ \"status\"[[:space:]]*:[[:space:]]*\"([a-z]+)\" ]]; then printf '%s' "${BASH_REMATCH[1]}"; else printf @@=STATE_CORRUPT@@; fi
  elif [[ $UCI_LIVE == live ]]; then
    printf @@=STATE_RUNNING@@
  else
    printf @@=STATUS_LOST@@
  fi
}

# Each listed run names the run before it (its predecessor in this order, "-" for the oldest), and every listed
# run and predecessor gets one "deploy\t<id>\t<deploy.json>" line, for the `changed` column.
uci_count=0
uci_total=0
uci_want_prev=
declare -A uci_deploy_sent=()
uci_deploy() {
  [[ -n ${uci_deploy_sent[$1]+set} ]] && return
  uci_deploy_sent[$1]=1
  printf 'deploy\t%s\t%s\n' "$1" "$(uci_file_field "$UCI_RUNS_ROOT/$1/@@=MANIFEST_FILE@@" "$UCI_DEPLOY_CAP")"
}
declare -a uci_order=()
mapfile -t uci_order < <(uci_run_order "$UCI_RUNS_ROOT")
uci_total=${#uci_order[@]}
for ((uci_i = 0; uci_i < uci_total; uci_i++)); do
  uci_time=${uci_order[uci_i]%%$'\t'*}
  uci_id=${uci_order[uci_i]#*$'\t'}
  if [[ -n $uci_want_prev ]]; then
    uci_deploy "$uci_id"
    uci_want_prev=
  fi
  ((uci_count < UCI_LIMIT)) || break
  uci_dir="$UCI_RUNS_ROOT/$uci_id"
  # The runner's liveness rule: a pid counts only when its command line names this run's dir.
  uci_liveness "$uci_dir"
  uci_own_file "$uci_dir/@@=RESULT_FILE@@"
  [[ -z $UCI_STATUS || $(uci_status_word "$uci_dir") == "$UCI_STATUS" ]] || continue
  if [[ -f $uci_dir/@@=RESULT_FILE@@ ]]; then
    uci_result="$(uci_file_field "$uci_dir/@@=RESULT_FILE@@" "$UCI_RESULT_CAP")"$'\t'"$(stat -c %s -- "$uci_dir/@@=RESULT_FILE@@" 2>/dev/null || echo 0)"
  else
    uci_result=$'-\t0'
  fi
  uci_prev=-
  ((uci_i + 1 < uci_total)) && uci_prev=${uci_order[uci_i + 1]#*$'\t'}
  printf 'run\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$uci_id" "${uci_time%%.*}" \
    "$(uci_process_field launcher)" "$(uci_process_field runner)" "$UCI_LIVE" "$uci_result" \
    "$(uci_file_field "$uci_dir/@@=PIPELINERUN_FILE@@" 1024)" "$(uci_commit_field "$uci_dir")" "$uci_prev"
  uci_deploy "$uci_id"
  [[ $uci_prev != - ]] && uci_want_prev=$uci_prev
  uci_count=$((uci_count + 1))
done
printf 'end\t%s\t%s\n' "$uci_count" "$uci_total"
