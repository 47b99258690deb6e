#!/usr/bin/env bash
# unidesk-ci watch reader: fixed and read-only (docs/readers.md). Given the byte offsets the CLI holds,
# it answers with the run's status, progress.json when it changed and only the new bytes of each log;
# when nothing is new it waits on the host (polling) and answers as soon as something changes.
# Only the quoted values below are substituted. It writes nothing on the host.
set -uo pipefail

UCI_RUNS_ROOT=@@RUNS_ROOT@@
# uci:include runs-root.sh
UCI_RUN_ID=@@RUN_ID@@
UCI_OFFSETS=@@OFFSETS@@
UCI_PROGRESS_SEEN=@@PROGRESS_VERSION@@
UCI_WAIT_MS=@@WAIT_MS@@
UCI_POLL_MS=@@POLL_MS@@
UCI_BURST_MS=@@BURST_MS@@
UCI_CAP=@@CAP_BYTES@@
UCI_PROGRESS_CAP=@@PROGRESS_CAP_BYTES@@
UCI_RESULT_CAP=@@RESULT_CAP_BYTES@@
UCI_FILES_MAX=@@FILES_MAX@@
UCI_PATH_RE=@@PATH_RE@@
UCI_LOGS=@@LOGS@@
UCI_DEPLOY_CAP=@@DEPLOY_CAP_BYTES@@

uci_fail() {
  printf 'watch reader: %s\n' "$1" >&2
  exit 2
}

# The offsets the CLI holds, "path=offset" per line; checked again here (the renderer checked them first).
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

# uci:include run-liveness.sh

# uci:include result-record.sh

# Is result.json there, in any form (the run is over: it ends a follow and a wait)? A test of bash's own, no process.
uci_ended() { [[ -e $UCI_DIR/@@=RESULT_FILE@@ || -L $UCI_DIR/@@=RESULT_FILE@@ ]]; }

# One look at the run dir: its liveness (the runner's rule, before result.json), uci_size[path] of the watched
# files (one find; none when UCI_LOGS is 0), result.json (in any form), progress.json's version.
uci_scan() {
  local rel size version
  uci_liveness "$UCI_DIR"
  uci_size=()
  uci_has_result=false
  uci_ended && uci_has_result=true
  uci_progress_version=-
  while IFS=$'\t' read -r rel size version; do
    case $rel in
      @@=RESULT_FILE@@) ;;
      @@=PROGRESS_FILE@@) uci_progress_version=$version ;;
      *) [[ $UCI_LOGS == 1 && $rel =~ $UCI_PATH_RE ]] && uci_size[$rel]=$size ;;
    esac
  done < <(find -H "$UCI_DIR" -mindepth 1 -maxdepth 2 -type f \( -path "$UCI_DIR/@@=PODS_DIR@@/*" -o -path "$UCI_DIR/*.log" -o -path "$UCI_DIR/*.json" \) \
    -printf '%P\t%s\t%i:%s:%T@\n' 2>/dev/null)
}

# Is there anything to tell: result.json, a dead run (lost: nothing will change), a new progress.json, a log longer
# (or shorter) than its offset.
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

# uci:include file-field.sh

# uci:include run-ref.sh

printf 'unidesk-ci-watch\t1\n'
uci_runs_root
# @latest / @latest-failed (the first answer only: the CLI asks by run id from then on).
uci_resolve_ref
UCI_DIR="$UCI_RUNS_ROOT/$UCI_RUN_ID"
printf 'runid\t%s\n' "$UCI_RUN_ID"
if [[ $UCI_RUN_ID == @* || ! -d $UCI_DIR ]]; then
  printf 'run\tabsent\nend\t0\t0\t0\n'
  exit 0
fi
printf 'run\tpresent\n'

# A nap is a `read -t` on a pipe nobody writes to (its write end is this shell's own), opened at the first nap (an
# answer that does not wait opens none): no process per nap, where `sleep` started one five times a second for as
# long as the reader waits. Without /dev/fd, sleep it is.
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
# Waits end by the clock or by their count of naps, whichever comes first: a clock set back must not make the
# reader wait for ever (docs/decisions.md: future-dated run dirs).
uci_naps=$((UCI_WAIT_MS / UCI_POLL_MS))
if ! uci_has_news; then
  while (($(uci_ms) - uci_start < UCI_WAIT_MS && uci_naps-- > 0)); do
    # A look every POLL_MS, but result.json is seen within a quarter of it.
    for _ in 1 2 3 4; do
      uci_nap $((UCI_POLL_MS / 4))
      uci_ended && break
    done
    uci_scan
    uci_has_news || continue
    # Gather the burst the first change belongs to into this answer, but answer as soon as result.json
    # appears (the run is over: the runner's last log bytes come just before it), and not when it is over.
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
printf 'pipelinerun\t%s\n' "$(uci_file_field "$UCI_DIR/@@=PIPELINERUN_FILE@@" 1024)"
uci_result_record "$UCI_DIR"
# A run that ended without succeeding: the last green run before it, for the digest. Asked of the run dir again,
# not of the scan: a result.json written since the scan is in this answer (uci_result_record above), which ends a
# follow, so its changes must be in it too.
uci_changes_record "$UCI_DEPLOY_CAP"
# result.json ends a follow: when it appeared after the last look (the record above may hold it), look again, so
# every log byte the runner wrote before it (it writes its logs first) is in this answer, not left unfollowed.
$uci_has_result || ! uci_ended || uci_scan
uci_psize=${uci_progress_version#*:}
uci_psize=${uci_psize%%:*}
if [[ $uci_progress_version == - ]]; then
  printf 'progress\t-\t0\t-\n'
elif [[ $uci_progress_version == "$UCI_PROGRESS_SEEN" ]]; then
  printf 'progress\t%s\t%s\tsame\n' "$uci_progress_version" "$uci_psize"
else
  printf 'progress\t%s\t%s\t%s\n' "$uci_progress_version" "$uci_psize" "$(uci_file_field "$UCI_DIR/@@=PROGRESS_FILE@@" "$UCI_PROGRESS_CAP")"
fi

# The new bytes of each log, launcher.log and runner.log first, then pods/ (bytewise order), within the cap: one
# dd (GNU: skip and count in bytes) and one base64 a file with news.
uci_left=$UCI_CAP
uci_count=0
uci_kept=0
uci_more=0
uci_order=()
for uci_rel in @@=LAUNCHER_LOG@@ @@=RUNNER_LOG@@; do [[ -n ${uci_size[$uci_rel]+set} ]] && uci_order+=("$uci_rel"); done
mapfile -t -O "${#uci_order[@]}" uci_order < <(printf '%s\n' "${!uci_size[@]}" | grep '^@@=PODS_DIR@@/' | LC_ALL=C sort)
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
