#!/usr/bin/env bash
# unidesk-ci logs reader: fixed and read-only (docs/readers.md); every file of one run directory
set -uo pipefail

UCI_RUNS_ROOT='/home/ubuntu/.unidesk/runs'
uci_safe() {
  local p q u m n f a w x r=
  for q in "$2" -; do
    [[ $q == - ]] && q=$(${3-:} -p "$2"; realpath -m "$2") && r=${3-}
    a=() p='' x=''
    for f in ${q//\// }; do
      p+=/$f
      a+=("$p")
      [[ -e $p || -L $p ]] || { x=$p; break; }
    done
    for p in "${a[@]}"; do
      # shellcheck disable=SC2015 # w is set either way: an answer, or no answer for the step already missing (done) or another (missing)
      read -r u m n f && w="a $f of $n (uid $u) mode $m" || { [[ $p == "$x" && ! $r ]] && break; w=missing; }
      [[ $f == d* ]] && (((u==EUID||!u&&${#p}<${#q})&&(!(m&18)||m&512&&${#p}<${#q}))) && continue
      [[ $f == sym* ]] && ((!u||u==EUID)) && continue
      printf "unsafe $1 root $2: %s is %s; make it yours (uid $EUID), mode 700, or set another ${1}Root\n" "$p" "$w"
      return 1
    done < <(LC_ALL=C stat -c '%u %#a %U %F' "${a[@]}" 2>/dev/null)
  done
  [[ $q =~ $UCI_RE_ABSOLUTE_PATH ]] || { echo "$1 root $2 resolves outside ABSOLUTE_PATH"; return 1; }
  echo "$q"
}

UCI_RE_ABSOLUTE_PATH='^(/[A-Za-z0-9._-]+)+$'
UCI_RE_RUN_ID='^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'
uci_unsafe() {
  printf 'unsafe\t%s\nend\n' "${1//[[:cntrl:]]/ }"
  exit 0
}

uci_foreign_run() {
  local o t u m id
  while IFS=$'\t' read -r t u m id; do
    [[ $id =~ $UCI_RE_RUN_ID ]] || continue
    [[ $t == d && $u == "$EUID" ]] && ((!(8#$m & 18))) && continue
    o=$(uci_safe run "$1/$id") && continue
    o=${o#unsafe run root }
    echo "unsafe run directory ${o%%; make it yours*}; another user could have written it: remove it"
    return 0
  done < <(find -H "$1" -mindepth 1 -maxdepth 1 \( -type d -o -type l \) -printf '%y\t%U\t%m\t%P\n' 2>/dev/null)
  return 1
}

uci_runs_root() {
  local o
  o=$(uci_safe runs "$UCI_RUNS_ROOT") || uci_unsafe "$o"
  UCI_RUNS_ROOT=$o
  o=$(uci_foreign_run "$o") && uci_unsafe "$o"
}

uci_own_file() {
  [[ ! -e $1 || -L $1 || -O $1 ]] && return 0
  uci_unsafe "unsafe file $1: it belongs to $(stat -c '%U (uid %u)' -- "$1" 2>/dev/null), not to uid $EUID; another user could have written it: remove it"
}
UCI_RUN_ID='dev-20261127-162626-k3x9a2'
UCI_FILE_CAP='262144'
UCI_TOTAL_CAP='2097152'
UCI_MAX_FILES='200'
UCI_SCAN_MAX='100000'
UCI_RESULT_CAP='262144'
UCI_ONLY=''

UCI_DEPLOY_CAP='1048576'
UCI_KEPT=0
UCI_COUNT=0

uci_wanted() { [[ -z $UCI_ONLY || $1 == "$UCI_ONLY" ]]; }

UCI_B64_DIGITS=ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/
declare -A uci_byte=()
for uci_c in {A..Z} {a..z} {0..9} . _ - /; do printf -v "uci_byte[$uci_c]" %d "'$uci_c"; done

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

uci_result_record() {
  local f=$1/result.json data size
  uci_own_file "$f"
  if [[ ! -e $f && ! -L $f ]]; then
    printf 'result\t-\t0\n'
  elif [[ -f $f && ! -L $f ]] && size=$(stat -c %s -- "$f" 2>/dev/null) &&
    data=$(head -c "$UCI_RESULT_CAP" -- "$f" 2>/dev/null | base64 -w0); then
    printf 'result\tb64:%s\t%s\n' "$data" "$size"
  else
    printf 'result\t!\t0\n'
  fi
}

UCI_YOUNG_GRACE_S='60'
declare -A UCI_PID=() UCI_RC=()
UCI_LIVE=live
UCI_LIVE_WHY=
UCI_PID_SEEN=
UCI_AGE=0

uci_pid_runs() {
  local pid=$1 dir=$2 cmd rest stat
  local -a argv
  UCI_PID_SEEN=gone
  [[ $pid =~ ^[1-9][0-9]{0,9}$ && -e /proc/$pid ]] || return 1
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
  if ! { mapfile -d '' -t argv <"/proc/$pid/cmdline"; } 2>/dev/null; then
    [[ -e /proc/$pid ]] && return 2
    UCI_PID_SEEN=gone
    return 1
  fi
  printf -v cmd '%s\n' "${argv[@]}"
  rest=$cmd
  while [[ $rest == *"$dir"* ]]; do
    rest=${rest#*"$dir"}
    [[ ${rest:0:1} != [A-Za-z0-9._-] ]] && return 0
  done
  return 1
}

uci_young() {
  local now mtime
  printf -v now '%(%s)T' -1
  mtime=$(stat -c %Y -- "$1" 2>/dev/null) || mtime=$now
  UCI_AGE=$((now - mtime))
  ((UCI_AGE < UCI_YOUNG_GRACE_S && UCI_AGE > -UCI_YOUNG_GRACE_S))
}

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

uci_process_field() {
  if [[ -z ${UCI_PID[$1]-} ]]; then
    printf -- '-\tnone'
  elif ((UCI_RC[$1] == 1)); then
    printf '%s\tdead' "${UCI_PID[$1]}"
  else
    printf '%s\talive' "${UCI_PID[$1]}"
  fi
}

uci_liveness_record() {
  printf 'liveness\t%s\t%s\n' "$UCI_LIVE" "$UCI_LIVE_WHY"
}

uci_file_field() {
  local data
  [[ -f $1 && ! -L $1 && -O $1 ]] || { printf -- '-'; return; }
  data=$(head -c "$2" -- "$1" | base64 -w0) || { printf -- '-'; return; }
  printf 'b64:%s' "$data"
}

UCI_RE_RUN_ID='^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'
UCI_RE_RUN_REF='^@latest(-failed)?$'

uci_run_order() {
  local depth type time rel id
  local -A started=()
  while IFS=$'\t' read -r depth type time rel; do
    id=${rel%%/*}
    [[ $id =~ $UCI_RE_RUN_ID ]] || continue
    if ((depth == 2)) && [[ $type == f && $rel == "$id/launcher.pid" ]]; then
      started[$id]=$time
    elif ((depth == 1)) && [[ $type == d && -z ${started[$id]+set} ]]; then
      started[$id]=$time
    fi
  done < <(find -H "$1" -mindepth 1 -maxdepth 2 \( -type d -o -name launcher.pid \) -printf '%d\t%y\t%T@\t%P\n' 2>/dev/null)
  for id in "${!started[@]}"; do printf '%s\t%s\n' "${started[$id]}" "$id"; done | LC_ALL=C sort -t$'\t' -k1,1gr -k2,2
}

uci_run_succeeded() {
  [[ -f $1/result.json && ! -L $1/result.json ]] &&
    head -c "$UCI_RESULT_CAP" -- "$1/result.json" 2>/dev/null | grep -Eq '"status"[[:space:]]*:[[:space:]]*"succeeded"'
}

uci_run_failed() {
  [[ -e $1/result.json || -L $1/result.json ]] && ! uci_run_succeeded "$1"
}

uci_resolve_ref() {
  local ref=$UCI_RUN_ID time id
  [[ $ref =~ $UCI_RE_RUN_REF ]] || return 0
  while IFS=$'\t' read -r time id; do
    [[ -n $id ]] || continue
    if [[ $ref == @latest ]] || uci_run_failed "$UCI_RUNS_ROOT/$id"; then
      UCI_RUN_ID=$id
      break
    fi
  done < <(uci_run_order "$UCI_RUNS_ROOT")
  if [[ $UCI_RUN_ID == "$ref" ]]; then printf 'ref\t%s\t-\n' "$ref"; else printf 'ref\t%s\t%s\n' "$ref" "$UCI_RUN_ID"; fi
}

uci_changes_record() {
  local cap=$1 time id seen=false green=-
  uci_run_failed "$UCI_RUNS_ROOT/$UCI_RUN_ID" || return 0
  while IFS=$'\t' read -r time id; do
    if $seen && uci_run_succeeded "$UCI_RUNS_ROOT/$id"; then
      green=$id
      break
    fi
    [[ $id == "$UCI_RUN_ID" ]] && seen=true
  done < <(uci_run_order "$UCI_RUNS_ROOT")
  if [[ $green == - ]]; then
    printf 'changes\t-\t-\t-\t%s\n' "$(uci_file_field "$UCI_RUNS_ROOT/$UCI_RUN_ID/deploy.json" "$cap")"
  else
    printf 'changes\t%s\t%s\t%s\t%s\n' "$green" "$(uci_file_field "$UCI_RUNS_ROOT/$green/result.json" "$UCI_RESULT_CAP")" \
      "$(uci_file_field "$UCI_RUNS_ROOT/$green/deploy.json" "$cap")" "$(uci_file_field "$UCI_RUNS_ROOT/$UCI_RUN_ID/deploy.json" "$cap")"
  fi
}

printf 'unidesk-ci-logs\t1\n'
uci_runs_root
uci_resolve_ref
UCI_DIR="$UCI_RUNS_ROOT/$UCI_RUN_ID"
printf 'runid\t%s\n' "$UCI_RUN_ID"
printf 'caps\t%s\t%s\t%s\n' "$UCI_FILE_CAP" "$UCI_TOTAL_CAP" "$UCI_MAX_FILES"
if [[ $UCI_RUN_ID == @* || ! -d $UCI_DIR ]]; then
  printf 'run\tabsent\nend\t0\t0\n'
  exit 0
fi
printf 'run\tpresent\n'
uci_liveness "$UCI_DIR"
uci_liveness_record
uci_result_record "$UCI_DIR"
uci_changes_record "$UCI_DEPLOY_CAP"
declare -a uci_all=() uci_listed=()
mapfile -d '' -t uci_all < <(find -H "$UCI_DIR" -mindepth 1 -type f -printf '%P\001%s\0' 2>/dev/null | head -z -n "$UCI_SCAN_MAX" | LC_ALL=C sort -z)
for ((uci_i = 0; uci_i < ${#uci_all[@]}; uci_i++)); do
  uci_rel=${uci_all[uci_i]%$'\001'*}
  uci_size[$uci_rel]=${uci_all[uci_i]##*$'\001'}
  uci_all[uci_i]=$uci_rel
done
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
uci_scan=exact
((${#uci_all[@]} >= UCI_SCAN_MAX)) && uci_scan=atleast
printf 'omitted\t%s\t%s\n' "$((${#uci_listed[@]} - (UCI_COUNT - UCI_KNOWN)))" "$uci_scan"
printf 'end\t%s\t%s\n' "$UCI_COUNT" "$UCI_KEPT"
