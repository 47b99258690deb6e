#!/usr/bin/env bash
# unidesk-ci runs lister: fixed and read-only (docs/readers.md); the newest run dirs under the runs root,
# a few small files of each (result.json, pipelinerun.txt, pid files, the head of launcher.log).
# Only the quoted values below are substituted. It writes nothing on the host.
set -uo pipefail

UCI_RUNS_ROOT=@@RUNS_ROOT@@
# uci:include runs-root.sh
UCI_LIMIT=@@LIMIT@@
UCI_RESULT_CAP=@@RESULT_CAP_BYTES@@
# @@RULES RUN_ID FULL_SHA@@

# uci:include file-field.sh

# uci:include run-liveness.sh

# The manifest commit the launcher logged first ("launcher accepted run …: … commit <sha> …"), or "-".
uci_commit_field() {
  local head=""
  [[ -f $1 && ! -L $1 ]] && head=$(head -c 2048 -- "$1" 2>/dev/null | tr -d '\000')
  if [[ $head =~ commit\ (${UCI_RE_FULL_SHA:1:-1}) ]]; then printf '%s' "${BASH_REMATCH[1]}"; else printf -- '-'; fi
}

printf 'unidesk-ci-runs\t1\n'
if [[ ! -d $UCI_RUNS_ROOT ]]; then
  printf 'root\tabsent\nend\t0\t0\n'
  exit 0
fi
printf 'root\tpresent\n'

# When a run started: launcher.pid's mtime (written once, as it detached), else its dir's.
declare -A uci_started=()
while IFS=$'\t' read -r uci_depth uci_type uci_time uci_rel; do
  uci_id=${uci_rel%%/*}
  [[ $uci_id =~ $UCI_RE_RUN_ID ]] || continue
  if ((uci_depth == 2)) && [[ $uci_type == f && $uci_rel == "$uci_id/launcher.pid" ]]; then
    uci_started[$uci_id]=$uci_time
  elif ((uci_depth == 1)) && [[ $uci_type == d && -z ${uci_started[$uci_id]+set} ]]; then
    uci_started[$uci_id]=$uci_time
  fi
done < <(find -H "$UCI_RUNS_ROOT" -mindepth 1 -maxdepth 2 \( -type d -o -name launcher.pid \) -printf '%d\t%y\t%T@\t%P\n' 2>/dev/null)

uci_count=0
while IFS=$'\t' read -r uci_time uci_id; do
  [[ -n $uci_id ]] || continue
  uci_dir="$UCI_RUNS_ROOT/$uci_id"
  if [[ -f $uci_dir/result.json ]]; then
    uci_result="$(uci_file_field "$uci_dir/result.json" "$UCI_RESULT_CAP")"$'\t'"$(stat -c %s -- "$uci_dir/result.json" 2>/dev/null || echo 0)"
  else
    uci_result=$'-\t0'
  fi
  # The runner's liveness rule: a pid counts only when its command line names this run's dir.
  uci_liveness "$uci_dir"
  printf 'run\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$uci_id" "${uci_time%%.*}" \
    "$(uci_process_field launcher)" "$(uci_process_field runner)" "$UCI_LIVE" "$uci_result" \
    "$(uci_file_field "$uci_dir/pipelinerun.txt" 1024)" "$(uci_commit_field "$uci_dir/launcher.log")"
  uci_count=$((uci_count + 1))
done < <(for uci_id in "${!uci_started[@]}"; do printf '%s\t%s\n' "${uci_started[$uci_id]}" "$uci_id"; done |
  LC_ALL=C sort -t$'\t' -k1,1gr -k2,2 | head -n "$UCI_LIMIT")
printf 'end\t%s\t%s\n' "$uci_count" "${#uci_started[@]}"
