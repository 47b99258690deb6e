#!/usr/bin/env bash
# unidesk-ci logs reader: fixed and read-only (docs/readers.md); every file of one run directory
# in one dispatch, base64, keeping each file's tail within the caps and reading at most UCI_MAX_FILES
# files (the others are counted). It writes nothing on the host.
set -uo pipefail

UCI_RUNS_ROOT=@@RUNS_ROOT@@
# uci:include runs-root.sh
UCI_RUN_ID=@@RUN_ID@@
UCI_FILE_CAP=@@FILE_CAP_BYTES@@
UCI_TOTAL_CAP=@@TOTAL_CAP_BYTES@@
UCI_MAX_FILES=@@MAX_FILES@@
UCI_SCAN_MAX=@@SCAN_MAX_FILES@@
UCI_RESULT_CAP=@@RESULT_CAP_BYTES@@
UCI_ONLY=@@ONLY@@

UCI_DEPLOY_CAP=@@DEPLOY_CAP_BYTES@@
UCI_KEPT=0
UCI_COUNT=0

# With UCI_ONLY (logs --file) only that one file of the listing is read.
uci_wanted() { [[ -z $UCI_ONLY || $1 == "$UCI_ONLY" ]]; }

# A file's name in base64 without a process: run files are named with letters, digits, . _ - and / only (pods/
# <pod>_<container>.log), so their bytes are those characters' codes; any other name goes through base64.
UCI_B64_DIGITS=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/
declare -A uci_byte=()
for uci_c in {A..Z} {a..z} {0..9} . _ - /; do printf -v "uci_byte[$uci_c]" %d "'$uci_c"; done

# Sets uci_b64 to the base64 of $1.
uci_name_b64() {
  local s=$1 i n b c
  for ((i = 0; i < ${#s}; i++)); do
    [[ -n ${uci_byte[${s:i:1}]+set} ]] || { uci_b64=$(printf %s "$s" | base64 -w0); return; }
  done
  uci_b64=
  for ((i = 0; i < ${#s}; i += 3)); do
    b=0 c=0
    ((i + 1 < ${#s})) && b=${uci_byte[${s:i+1:1}]}
    ((i + 2 < ${#s})) && c=${uci_byte[${s:i+2:1}]}
    ((n = ${uci_byte[${s:i:1}]} * 65536 + b * 256 + c))
    uci_b64+=${UCI_B64_DIGITS:n / 262144:1}${UCI_B64_DIGITS:n / 4096 % 64:1}${UCI_B64_DIGITS:n / 64 % 64:1}${UCI_B64_DIGITS:n % 64:1}
  done
  case $((${#s} % 3)) in 1) uci_b64=${uci_b64%??}== ;; 2) uci_b64=${uci_b64%?}= ;; esac
}

# One line per file: file <base64 path> <size> <b64:content tail | - when unreadable>. The size is the listing's
# (stat for a file it did not list): a file read costs its tail and base64, two processes.
declare -A uci_size=()
uci_emit() {
  local rel=$1 path="$UCI_DIR/$1" size cap data pad content
  size=${uci_size[$rel]-}
  [[ -n $size ]] || size=$(stat -c %s -- "$path" 2>/dev/null) || size=0
  cap=$((UCI_TOTAL_CAP - UCI_KEPT))
  ((cap > UCI_FILE_CAP)) && cap=$UCI_FILE_CAP
  content=-
  if ((cap <= 0)); then
    content=b64:
  elif data=$(tail -c "$cap" -- "$path" | base64 -w0); then
    content="b64:$data"
    pad=${data##*[!=]}
    UCI_KEPT=$((UCI_KEPT + ${#data} * 3 / 4 - ${#pad}))
  fi
  UCI_COUNT=$((UCI_COUNT + 1))
  uci_name_b64 "$rel"
  printf 'file\t%s\t%s\t%s\n' "$uci_b64" "$size" "$content"
}

# uci:include result-record.sh

# uci:include run-liveness.sh

# uci:include file-field.sh

# uci:include run-ref.sh

printf 'unidesk-ci-logs\t1\n'
uci_runs_root
# @latest / @latest-failed: the run it names, in this same dispatch.
uci_resolve_ref
UCI_DIR="$UCI_RUNS_ROOT/$UCI_RUN_ID"
printf 'runid\t%s\n' "$UCI_RUN_ID"
printf 'caps\t%s\t%s\t%s\n' "$UCI_FILE_CAP" "$UCI_TOTAL_CAP" "$UCI_MAX_FILES"
if [[ $UCI_RUN_ID == @* || ! -d $UCI_DIR ]]; then
  printf 'run\tabsent\nend\t0\t0\n'
  exit 0
fi
printf 'run\tpresent\n'
# Liveness before result.json, as the runner's sweep judges it.
uci_liveness "$UCI_DIR"
uci_liveness_record
uci_result_record "$UCI_DIR"
# A run that did not succeed: the last green run before it and both deploy.json copies.
uci_changes_record "$UCI_DEPLOY_CAP"
declare -a uci_all=() uci_listed=()
# At most UCI_SCAN_MAX names, so a directory of millions of files cannot use up the dispatch budget; each with its
# size after a \1 (below every byte a name can hold but NUL, so the order is the names').
mapfile -d '' -t uci_all < <(find -H "$UCI_DIR" -mindepth 1 -type f -printf '%P\001%s\0' 2>/dev/null | head -z -n "$UCI_SCAN_MAX" | LC_ALL=C sort -z)
for ((uci_i = 0; uci_i < ${#uci_all[@]}; uci_i++)); do
  uci_rel=${uci_all[uci_i]%$'\001'*}
  uci_size[$uci_rel]=${uci_all[uci_i]##*$'\001'}
  uci_all[uci_i]=$uci_rel
done
# Most telling first, so the caps cut the least useful files: status, logs, pods, the rest.
for uci_rel in @@=RESULT_FILE@@ @@=PIPELINERUN_FILE@@ @@=LAUNCHER_LOG@@ @@=RUNNER_LOG@@; do
  [[ -f $UCI_DIR/$uci_rel && ! -L $UCI_DIR/$uci_rel ]] && uci_wanted "$uci_rel" && uci_emit "$uci_rel"
done
UCI_KNOWN=$UCI_COUNT
for uci_rel in "${uci_all[@]}"; do [[ $uci_rel == @@=PODS_DIR@@/* ]] && uci_wanted "$uci_rel" && uci_listed+=("$uci_rel"); done
for uci_rel in "${uci_all[@]}"; do
  uci_wanted "$uci_rel" || continue
  case $uci_rel in
    @@=RESULT_FILE@@ | @@=PIPELINERUN_FILE@@ | @@=LAUNCHER_LOG@@ | @@=RUNNER_LOG@@ | @@=PODS_DIR@@/*) ;;
    *) uci_listed+=("$uci_rel") ;;
  esac
done
for uci_rel in "${uci_listed[@]}"; do
  ((UCI_COUNT < UCI_MAX_FILES)) || break
  uci_emit "$uci_rel"
done
# Listed but not read; "atleast" when the listing itself stopped at UCI_SCAN_MAX names.
uci_scan=exact
((${#uci_all[@]} >= UCI_SCAN_MAX)) && uci_scan=atleast
printf 'omitted\t%s\t%s\n' "$((${#uci_listed[@]} - (UCI_COUNT - UCI_KNOWN)))" "$uci_scan"
printf 'end\t%s\t%s\n' "$UCI_COUNT" "$UCI_KEPT"
