#!/usr/bin/env bash
# unidesk-ci watch reader: fixed and read-only (docs/readers.md). Given the byte offsets the CLI holds,
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
UCI_OFFSETS='runner.log=120
pods/e2e-x-pod_step-e2e.log=4096'
UCI_PROGRESS_SEEN='1234:567:1764630000.1234567890'
UCI_WAIT_MS='35000'
UCI_POLL_MS='200'
UCI_BURST_MS='300'
UCI_CAP='262144'
UCI_PROGRESS_CAP='65536'
UCI_RESULT_CAP='262144'
UCI_FILES_MAX='200'
UCI_PATH_RE='^(launcher\.log|runner\.log|pods/[A-Za-z0-9_-][A-Za-z0-9._-]{0,199})$'
UCI_LOGS='1'
UCI_DEPLOY_CAP='1048576'

uci_fail() {
  printf 'watch reader: %s\n' "$1" >&2
  exit 2
}

declare -A uci_offset=()
uci_n=0
while IFS= read -r uci_line; do
  [[ -n $uci_line ]] || continue
  uci_n=$((uci_n + 1))
  ((uci_n <= UCI_FILES_MAX)) || uci_fail "more than $UCI_FILES_MAX offsets"
  uci_path=${uci_line%=*}
  uci_off=${uci_line##*=}
  [[ $uci_path =~ $UCI_PATH_RE && $uci_off =~ ^[0-9]{1,15}$ ]] || uci_fail "bad offset line"
  uci_offset[$uci_path]=$uci_off
done <<<"$UCI_OFFSETS"

uci_ms() {
  if [[ -n ${EPOCHREALTIME:-} ]]; then
    local t=${EPOCHREALTIME/[.,]/}
    printf '%s' "${t:0:-3}"
  else
    date +%s%3N
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

uci_ended() { [[ -e $UCI_DIR/result.json || -L $UCI_DIR/result.json ]]; }

uci_scan() {
  local rel size version
  uci_liveness "$UCI_DIR"
  uci_size=()
  uci_has_result=false
  uci_ended && uci_has_result=true
  uci_progress_version=-
  while IFS=$'\t' read -r rel size version; do
    case $rel in
      result.json) ;;
      progress.json) uci_progress_version=$version ;;
      *) [[ $UCI_LOGS == 1 && $rel =~ $UCI_PATH_RE ]] && uci_size[$rel]=$size ;;
    esac
  done < <(find -H "$UCI_DIR" -mindepth 1 -maxdepth 2 -type f \( -path "$UCI_DIR/pods/*" -o -path "$UCI_DIR/*.log" -o -path "$UCI_DIR/*.json" \) \
    -printf '%P\t%s\t%i:%s:%T@\n' 2>/dev/null)
}

uci_has_news() {
  local rel
  $uci_has_result && return 0
  [[ $UCI_LIVE == dead ]] && return 0
  [[ $uci_progress_version != "$UCI_PROGRESS_SEEN" && $uci_progress_version != - ]] && return 0
  for rel in "${!uci_size[@]}"; do
    [[ ${uci_size[$rel]} != "${uci_offset[$rel]:-0}" ]] && return 0
  done
  return 1
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

printf 'unidesk-ci-watch\t1\n'
uci_runs_root
uci_resolve_ref
UCI_DIR="$UCI_RUNS_ROOT/$UCI_RUN_ID"
printf 'runid\t%s\n' "$UCI_RUN_ID"
if [[ $UCI_RUN_ID == @* || ! -d $UCI_DIR ]]; then
  printf 'run\tabsent\nend\t0\t0\t0\n'
  exit 0
fi
printf 'run\tpresent\n'

uci_nap_fd=
uci_nap() {
  local s
  printf -v s '%d.%03d' $(($1 / 1000)) $(($1 % 1000))
  [[ -n $uci_nap_fd ]] || exec {uci_nap_fd}<> <(:) || uci_nap_fd=none
  if [[ $uci_nap_fd != none ]]; then
    read -r -t "$s" -u "$uci_nap_fd" _
  else
    sleep "$s"
  fi
}

declare -A uci_size=()
uci_start=$(uci_ms)
uci_scan
uci_naps=$((UCI_WAIT_MS / UCI_POLL_MS))
if ! uci_has_news; then
  while (($(uci_ms) - uci_start < UCI_WAIT_MS && uci_naps-- > 0)); do
    for _ in 1 2 3 4; do
      uci_nap $((UCI_POLL_MS / 4))
      uci_ended && break
    done
    uci_scan
    uci_has_news || continue
    if ! $uci_has_result && [[ $UCI_LIVE == live ]]; then
      uci_burst_end=$(($(uci_ms) + UCI_BURST_MS))
      uci_naps=$((4 * UCI_BURST_MS / UCI_POLL_MS + 1))
      while (($(uci_ms) < uci_burst_end && uci_naps-- > 0)) && ! uci_ended; do uci_nap $((UCI_POLL_MS / 4)); done
      uci_scan
    fi
    break
  done
fi
uci_waited=$(($(uci_ms) - uci_start))
((uci_waited >= 0)) || uci_waited=0

printf 'launcher\t%s\n' "$(uci_process_field launcher)"
printf 'runner\t%s\n' "$(uci_process_field runner)"
uci_liveness_record
printf 'pipelinerun\t%s\n' "$(uci_file_field "$UCI_DIR/pipelinerun.txt" 1024)"
uci_result_record "$UCI_DIR"
uci_changes_record "$UCI_DEPLOY_CAP"
$uci_has_result || ! uci_ended || uci_scan
uci_psize=${uci_progress_version#*:}
uci_psize=${uci_psize%%:*}
if [[ $uci_progress_version == - ]]; then
  printf 'progress\t-\t0\t-\n'
elif [[ $uci_progress_version == "$UCI_PROGRESS_SEEN" ]]; then
  printf 'progress\t%s\t%s\tsame\n' "$uci_progress_version" "$uci_psize"
else
  printf 'progress\t%s\t%s\t%s\n' "$uci_progress_version" "$uci_psize" "$(uci_file_field "$UCI_DIR/progress.json" "$UCI_PROGRESS_CAP")"
fi

uci_left=$UCI_CAP
uci_count=0
uci_kept=0
uci_more=0
uci_order=()
for uci_rel in launcher.log runner.log; do [[ -n ${uci_size[$uci_rel]+set} ]] && uci_order+=("$uci_rel"); done
mapfile -t -O "${#uci_order[@]}" uci_order < <(printf '%s\n' "${!uci_size[@]}" | grep '^pods/' | LC_ALL=C sort)
for uci_rel in "${uci_order[@]}"; do
  uci_off=${uci_offset[$uci_rel]:-0}
  uci_sz=${uci_size[$uci_rel]}
  ((uci_sz == uci_off)) && continue
  if ((uci_count >= UCI_FILES_MAX || uci_left <= 0)); then
    uci_more=1
    continue
  fi
  uci_count=$((uci_count + 1))
  if ((uci_sz < uci_off)); then
    printf 'file\t%s\t%s\t%s\t-\n' "$uci_rel" "$uci_off" "$uci_sz"
    continue
  fi
  uci_path="$UCI_DIR/$uci_rel"
  uci_data=""
  [[ -f $uci_path && ! -L $uci_path ]] && uci_data=$(dd if="$uci_path" skip="$uci_off" count="$uci_left" iflag=skip_bytes,count_bytes 2>/dev/null | base64 -w0)
  uci_pad=${uci_data##*[!=]}
  uci_got=$((${#uci_data} * 3 / 4 - ${#uci_pad}))
  uci_left=$((uci_left - uci_got))
  uci_kept=$((uci_kept + uci_got))
  ((uci_off + uci_got < uci_sz)) && uci_more=1
  printf 'file\t%s\t%s\t%s\tb64:%s\n' "$uci_rel" "$uci_off" "$uci_sz" "$uci_data"
done
printf 'waited\t%s\n' "$uci_waited"
printf 'end\t%s\t%s\t%s\n' "$uci_count" "$uci_kept" "$uci_more"
