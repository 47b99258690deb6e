#!/usr/bin/env bash
# unidesk-ci logs reader: fixed and read-only (docs/readers.md); every file of one run directory
# in one dispatch, base64, keeping each file's tail within the caps and reading at most UCI_MAX_FILES
# files (the others are counted). It writes nothing on the host.
set -uo pipefail

UCI_RUNS_ROOT='/home/ubuntu/.unidesk/runs'
UCI_RUN_ID='dev-20261127-162626-k3x9a2'
UCI_FILE_CAP='262144'
UCI_TOTAL_CAP='2097152'
UCI_MAX_FILES='200'
UCI_SCAN_MAX='100000'
UCI_RESULT_CAP='65536'
UCI_ONLY=''

UCI_DIR="$UCI_RUNS_ROOT/$UCI_RUN_ID"
UCI_KEPT=0
UCI_COUNT=0

# With UCI_ONLY (logs --file) only that one file of the listing is read.
uci_wanted() { [[ -z $UCI_ONLY || $1 == "$UCI_ONLY" ]]; }

# One line per file: file <base64 path> <size> <b64:content tail | - when unreadable>.
uci_emit() {
  local rel=$1 path="$UCI_DIR/$1" size cap data pad content
  size=$(stat -c %s -- "$path" 2>/dev/null) || size=0
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
  printf 'file\t%s\t%s\t%s\n' "$(printf '%s' "$rel" | base64 -w0)" "$size" "$content"
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

printf 'unidesk-ci-logs\t1\n'
printf 'runid\t%s\n' "$UCI_RUN_ID"
printf 'caps\t%s\t%s\t%s\n' "$UCI_FILE_CAP" "$UCI_TOTAL_CAP" "$UCI_MAX_FILES"
if [[ ! -d $UCI_DIR ]]; then
  printf 'run\tabsent\nend\t0\t0\n'
  exit 0
fi
printf 'run\tpresent\n'
uci_result_record "$UCI_DIR"
declare -a uci_all=() uci_listed=()
# At most UCI_SCAN_MAX names, so a directory of millions of files cannot use up the dispatch budget.
mapfile -d '' -t uci_all < <(find "$UCI_DIR" -mindepth 1 -type f -printf '%P\0' 2>/dev/null | head -z -n "$UCI_SCAN_MAX" | LC_ALL=C sort -z)
# Most telling first, so the caps cut the least useful files: status, logs, pods, the rest.
for uci_rel in result.json pipelinerun.txt launcher.log runner.log; do
  [[ -f $UCI_DIR/$uci_rel && ! -L $UCI_DIR/$uci_rel ]] && uci_wanted "$uci_rel" && uci_emit "$uci_rel"
done
UCI_KNOWN=$UCI_COUNT
for uci_rel in "${uci_all[@]}"; do [[ $uci_rel == pods/* ]] && uci_wanted "$uci_rel" && uci_listed+=("$uci_rel"); done
for uci_rel in "${uci_all[@]}"; do
  uci_wanted "$uci_rel" || continue
  case $uci_rel in
    result.json | pipelinerun.txt | launcher.log | runner.log | pods/*) ;;
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
