#!/usr/bin/env bash
# UniDesk dev CI runner (Git-controlled; contract in docs/runner.md).
#
# Runs on the k3s host: sweeps what dead runs left behind and prunes old run directories, parses
# the host-fetched deploy.json, creates a labelled temporary namespace, starts the Tekton
# PipelineRun unidesk-ci/e2e-<runId> of pipeline/unidesk-dev-namespace-e2e, waits for it, saves
# the PipelineRun, its TaskRuns and every pod log into the result directory, deletes the
# temporary namespace (unless --keep-namespace) and writes result.json last, atomically.
#
# Environment (all optional):
#   KUBECONFIG                      default /etc/rancher/k3s/k3s.yaml
#   UNIDESK_CI_RUNNER_POLL_MS       PipelineRun poll interval, default 5000 (50..600000)
#   UNIDESK_CI_RUNNER_CANCEL_WAIT_MS how long to wait for Tekton to confirm a cancel, default 30000
#   UNIDESK_CI_KUBECTL_TIMEOUT      kubectl --request-timeout per call, default 30s
#   UNIDESK_CI_KEEP_RUNS            finished run directories kept in the runs root, default 100 (1..100000)
#
# Exit codes: 0 succeeded, 1 failed, 2 bad arguments (nothing done, no result.json),
# 3 error, 4 timeout, 130 cancelled by SIGINT, 143 cancelled by SIGTERM.

# Not `set -e`: every failure must still reach finish() and end in a result.json.
set -uo pipefail
# Result dirs, pod logs and temp files are the D601 user's alone (docs/security.md); readers run as that user.
umask 077
# Signals are trapped first thing: one that comes while the run is still being set up (before main's traps) is
# kept and acted on as soon as the run can write its result (docs/runner.md: signals). Not when sourced by tests.
early_signal=""
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then
  trap 'early_signal="SIGTERM 143"' TERM
  trap 'early_signal="SIGINT 130"' INT
fi

readonly PIPELINE_NAME="unidesk-dev-namespace-e2e"
readonly CI_NAMESPACE="unidesk-ci"
readonly SERVICE_ACCOUNT="unidesk-ci-e2e"
readonly MANAGED_BY="unidesk-ci"
readonly PROTECTED_NAMESPACES=" unidesk unidesk-dev default kube-system kube-public kube-node-lease unidesk-ci "
# Copies of src/rules.ts (the runner cannot import it): written by `npm run build` (build/runner.ts).
# >>> generated from src/rules.ts (npm run build) >>>
readonly RUN_ID_RE='^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'
readonly SHA_RE='^[0-9a-f]{40}$'
readonly REPO_RE='^https://[A-Za-z0-9.-]+(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+/?$'
readonly SERVICE_ID_RE='^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'
readonly TIMEOUT_MS_MIN=60000
readonly TIMEOUT_MS_MAX=21600000
readonly MANIFEST_MAX_BYTES=1048576
readonly MANIFEST_MAX_DEPTH=64
readonly SERVICES_MAX=100
readonly SWEEP_GRACE_S=60
readonly FAILURES_MAX=20
readonly FAILURE_TAIL_LINES=20
readonly FAILURE_LINE_MAX_CHARS=400
readonly RESULT_MAX_BYTES=262144
readonly POD_LOG_MAX_BYTES=16777216
readonly ISO_TIME_RE='^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}(\.[0-9]{1,9})?Z$'
readonly KUBECTL_STREAM_GO_ENV='GOMAXPROCS=1'
readonly KUBECTL_REQUEST_GO_ENV='GOMAXPROCS=1 GOGC=off GOMEMLIMIT=64MiB'
readonly PIPELINERUNS='pipelineruns.v1.tekton.dev'
readonly TASKRUNS='taskruns.v1.tekton.dev'
# <<< generated <<<
# >>> generated from src/host/run-dir.ts (npm run build) >>>
readonly RESULT_FILE='result.json'
readonly PROGRESS_FILE='progress.json'
readonly PIPELINERUN_FILE='pipelinerun.txt'
readonly LAUNCHER_PID_FILE='launcher.pid'
readonly RUNNER_PID_FILE='runner.pid'
readonly LAUNCHER_LOG='launcher.log'
readonly RUNNER_LOG='runner.log'
readonly MANIFEST_FILE='deploy.json'
readonly PODS_DIR='pods'
readonly TASKRUNS_FILE='taskruns.json'
readonly PIPELINERUN_JSON_FILE='pipelinerun.json'
readonly NAMESPACE_PREFIX='unidesk-ci-'
readonly PIPELINERUN_PREFIX='e2e-'
readonly WATCHDOG_MARGIN_S=600
readonly COMMIT_FILE='manifest-commit'
readonly RUNNER_INSTANCE_FILE='runner-instance'
# <<< generated <<<
readonly KEEP_RUNS_DEFAULT=100

usage() {
  cat <<'EOF'
usage: dev-e2e.sh --run-id <runId> --repo-url <https-repo> --desired-ref master \
         --manifest-commit <40-hex-sha> --manifest-file <path/deploy.json> \
         --environment dev --result-dir <runsRoot>/<runId> --timeout-ms <ms> [--keep-namespace]

Runs the dev namespace e2e PipelineRun for one manifest commit (see docs/runner.md).
EOF
}

# ---------------------------------------------------------------- arguments

usage_errors=()
usage_error() { usage_errors+=("$1"); }

# Reads and checks the arguments and environment into the run's settings; exits 2 on any problem (nothing done).
parse_args() {
  local -A arg=()
  local name e canonical_parent
  usage_errors=()
  keep_namespace=false
  while (($# > 0)); do
    case "$1" in
      --run-id | --repo-url | --desired-ref | --manifest-commit | --manifest-file | --environment | --result-dir | --timeout-ms)
        if (($# < 2)); then
          usage_error "$1 needs a value"
          shift
          continue
        fi
        if [[ -n ${arg[$1]+set} ]]; then usage_error "$1 is given more than once"; fi
        arg[$1]=$2
        shift 2
        ;;
      --keep-namespace)
        keep_namespace=true
        shift
        ;;
      -h | --help)
        usage
        exit 0
        ;;
      *)
        usage_error "unknown argument: $(printf '%q' "$1")"
        shift
        ;;
    esac
  done

  for name in --run-id --repo-url --desired-ref --manifest-commit --manifest-file --environment --result-dir --timeout-ms; do
    [[ -n ${arg[$name]+set} ]] || usage_error "missing required argument $name"
  done

  run_id=${arg[--run-id]-}
  repo_url=${arg[--repo-url]-}
  desired_ref=${arg[--desired-ref]-}
  manifest_commit=${arg[--manifest-commit]-}
  manifest_file=${arg[--manifest-file]-}
  environment=${arg[--environment]-}
  result_dir=${arg[--result-dir]-}
  timeout_ms=${arg[--timeout-ms]-}

  if [[ -n ${arg[--run-id]+set} && ! $run_id =~ $RUN_ID_RE ]]; then
    usage_error "--run-id '$run_id' must be a DNS label of at most 40 lowercase letters, digits and '-'"
  fi
  if [[ -n ${arg[--repo-url]+set} && ! $repo_url =~ $REPO_RE ]]; then
    usage_error "--repo-url '$repo_url' must be an https:// git URL without credentials or shell characters"
  fi
  if [[ -n ${arg[--desired-ref]+set} && $desired_ref != master ]]; then
    usage_error "--desired-ref '$desired_ref' must be master"
  fi
  if [[ -n ${arg[--manifest-commit]+set} && ! $manifest_commit =~ $SHA_RE ]]; then
    usage_error "--manifest-commit '$manifest_commit' must be a full 40-character lowercase commit SHA"
  fi
  if [[ -n ${arg[--manifest-file]+set} ]]; then
    if [[ $manifest_file != /* ]]; then
      usage_error "--manifest-file '$manifest_file' must be an absolute path"
    elif [[ ! -f $manifest_file || ! -r $manifest_file ]]; then
      usage_error "--manifest-file '$manifest_file' is not a readable file"
    fi
  fi
  if [[ -n ${arg[--environment]+set} && $environment != dev ]]; then
    usage_error "--environment '$environment' must be dev (the only environment this runner proves)"
  fi
  if [[ -n ${arg[--result-dir]+set} ]]; then
    if [[ ! $result_dir =~ ^/[A-Za-z0-9._/-]+$ || $result_dir == *..* ]]; then
      usage_error "--result-dir '$result_dir' must be an absolute path of letters, digits, '.', '_', '-' and '/' without '..'"
    elif [[ -n $run_id && ${result_dir%/} != */"$run_id" ]]; then
      usage_error "--result-dir '$result_dir' must end with the run id ($run_id)"
    fi
  fi
  if [[ -n ${arg[--timeout-ms]+set} ]]; then
    if [[ ! $timeout_ms =~ ^[1-9][0-9]{0,8}$ ]] || ((timeout_ms < TIMEOUT_MS_MIN || timeout_ms > TIMEOUT_MS_MAX)); then
      usage_error "--timeout-ms '$timeout_ms' must be an integer between $TIMEOUT_MS_MIN and $TIMEOUT_MS_MAX"
    fi
  fi

  poll_ms=${UNIDESK_CI_RUNNER_POLL_MS:-5000}
  cancel_wait_ms=${UNIDESK_CI_RUNNER_CANCEL_WAIT_MS:-30000}
  kubectl_timeout=${UNIDESK_CI_KUBECTL_TIMEOUT:-30s}
  if [[ ! $poll_ms =~ ^[0-9]{2,6}$ ]] || ((poll_ms < 50 || poll_ms > 600000)); then
    usage_error "UNIDESK_CI_RUNNER_POLL_MS '$poll_ms' must be an integer between 50 and 600000"
  fi
  if [[ ! $cancel_wait_ms =~ ^[0-9]{1,7}$ ]]; then
    usage_error "UNIDESK_CI_RUNNER_CANCEL_WAIT_MS '$cancel_wait_ms' must be an integer number of milliseconds"
  fi
  if [[ ! $kubectl_timeout =~ ^[0-9]+(ms|s|m)$ ]]; then
    usage_error "UNIDESK_CI_KUBECTL_TIMEOUT '$kubectl_timeout' must be a duration such as 30s"
  fi
  keep_runs=${UNIDESK_CI_KEEP_RUNS:-$KEEP_RUNS_DEFAULT}
  if [[ ! $keep_runs =~ ^[1-9][0-9]{0,5}$ ]] || ((keep_runs > 100000)); then
    usage_error "UNIDESK_CI_KEEP_RUNS '$keep_runs' must be an integer between 1 and 100000 (finished runs kept in the runs root)"
  fi

  if ((${#usage_errors[@]} > 0)); then
    for e in "${usage_errors[@]}"; do printf 'dev-e2e.sh: error: %s\n' "$e" >&2; done
    printf "run 'dev-e2e.sh --help' for usage; nothing was started\n" >&2
    exit 2
  fi

  export KUBECONFIG="${KUBECONFIG:-/etc/rancher/k3s/k3s.yaml}"
  readonly temp_namespace="${NAMESPACE_PREFIX}$run_id"
  readonly pipeline_run="${PIPELINERUN_PREFIX}$run_id"
  result_dir=${result_dir%/}
  # Its parent by the canonical path, as the launcher passes it: liveness compares command lines with it as text.
  if canonical_parent=$(realpath -m -- "${result_dir%/*}" 2>/dev/null) && [[ $canonical_parent == /* ]]; then
    result_dir=${canonical_parent%/}/${result_dir##*/}
  fi
}

# ---------------------------------------------------------------- result directory and log

ms_now() { date -u +%s%3N; }
iso_now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
# Text from outside (Tekton conditions, kubectl and pod output) as one line that cannot drive a terminal: C1
# controls (U+0080-U+009F) and bidi overrides (U+202A-U+202E, U+2066-U+2069) go, C0 controls and DEL become spaces.
readonly UNSAFE_TEXT_SED='s/\xc2[\x80-\x9f]//g; s/\xe2\x80[\xaa-\xae]//g; s/\xe2\x81[\xa6-\xa9]//g; s/[[:cntrl:]]/ /g'
# Text of printable ASCII only is clean as it is: no tr or sed process for it (most lines are the runner's own).
one_line() {
  if is_plain_text "$1"; then printf '%s' "$1"; else printf '%s' "$1" | tr '\n' ' ' | LC_ALL=C sed -e "$UNSAFE_TEXT_SED"; fi
}
is_plain_text() {
  local LC_ALL=C
  [[ $1 != *[![:print:]]* ]]
}
# Every runner.log line is one clean line, whatever it quotes.
log() {
  local line="$*" # quoted: bash 5.2 puts a \001 before a DEL in `local line=$*`
  is_plain_text "$line" || line=$(one_line "$line")
  printf '%s %s\n' "$(iso_now)" "$line"
}

pipeline_run_created=false
pipeline_run_attempted=false
# The uid of the PipelineRun this run created: only that object's status is this run's verdict (docs/security.md).
pipeline_run_uid=""
pipeline_run_foreign=false
namespace_attempted=false
namespace_created=false
namespace_deleted=false
tekton_reason=""
nap_pid=""
cond_status="" cond_reason="" cond_message="" poll_error=""

# Creates the result dir and takes its lock (runner.pid), then sends all output to runner.log; exits 3 when
# another runner owns the run or it has finished.
open_run() {
  local pid_owner
  if ! mkdir -p "$result_dir/pods"; then
    printf 'dev-e2e.sh: error: cannot create result directory %s\n' "$result_dir" >&2
    exit 3
  fi
  if [[ -e $result_dir/${RESULT_FILE} ]]; then
    printf 'dev-e2e.sh: error: %s/%s already exists: run %s has finished; use a new run id\n' "$result_dir" "$RESULT_FILE" "$run_id" >&2
    exit 3
  fi
  # noclobber makes the pid file the lock: a second runner for the same result dir stops here.
  if ! (set -o noclobber && printf '%s\n' "$$" >"$result_dir/${RUNNER_PID_FILE}") 2>/dev/null; then
    pid_owner=$(head -c 20 "$result_dir/${RUNNER_PID_FILE}" 2>/dev/null | tr -dc '0-9')
    printf 'dev-e2e.sh: error: %s/%s exists: another runner (pid %s) already owns run %s\n' \
      "$result_dir" "$RUNNER_PID_FILE" "$pid_owner" "$run_id" >&2
    exit 3
  fi

  exec 3>&2
  exec >>"$result_dir/${RUNNER_LOG}" 2>&1

  started_at=$(iso_now)
  start_ms=$(ms_now)
  instance="$(od -An -N6 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n')"
  instance=${instance:-$$$RANDOM}
  # Recorded before anything is created: a later sweep touches a namespace or PipelineRun of this run only when its
  # runner-instance annotation is this value (never by name and labels alone, which anyone could give theirs).
  printf '%s\n' "$instance" >"$result_dir/${RUNNER_INSTANCE_FILE}"
  # Every object sent to kubectl and every answer read back goes through files here, never argv.
  if ! work_tmp=$(mktemp -d "${TMPDIR:-/tmp}/unidesk-ci-runner.XXXXXX"); then
    work_tmp="$result_dir/.runner-tmp"
    mkdir -p "$work_tmp"
  fi
  kubectl_err="$work_tmp/kubectl.err"

  log "runner started: pid $$, run $run_id, manifest commit $manifest_commit"
  log "repo $repo_url, desired ref $desired_ref, environment $environment, timeout ${timeout_ms}ms, keep namespace $keep_namespace"
  log "KUBECONFIG=$KUBECONFIG, poll ${poll_ms}ms, kubectl request timeout $kubectl_timeout"
}

# ---------------------------------------------------------------- helpers

# A JSON string literal, without jq (result.json must be writable even when jq is missing).
json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  s=$(printf '%s' "$s" | LC_ALL=C tr -d '\000-\010\013\014\016-\037' | LC_ALL=C sed -e "$UNSAFE_TEXT_SED")
  printf '"%s"' "$s"
}
json_or_null() { if [[ -n $1 ]]; then json_str "$1"; else printf 'null'; fi; }

ms_to_s() { printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)); }

# Sleeps in the background so SIGTERM/SIGINT interrupt the wait at once.
nap_ms() {
  sleep "$(ms_to_s "$1")" &
  nap_pid=$!
  wait "$nap_pid" 2>/dev/null
  nap_pid=""
}

# THE seam to the cluster: every kubectl call of the runner is `kc …` (tests that source the runner define their own
# kc: docs/runner.md#testing-in-parts). kubectl with a request timeout; stderr is kept for error reasons and copied
# to the log. `kc --follow-for <s> …` is a log stream (live_start_stream runs it in the background): no request
# timeout (it would cut the stream), `timeout` bounds an orphan that outlives a SIGKILLed runner, and exec makes
# the background job's pid the stream's own, so killing that pid (or the runner's process group) ends it.
# kubectl starts some thirty times a run, with KUBECTL_STREAM_GO_ENV / KUBECTL_REQUEST_GO_ENV (src/rules.ts: Go's
# runtime settings, a third less CPU per call; docs/runner.md#kubectl). Unquoted on purpose: NAME=value words.
# shellcheck disable=SC2086
kc() {
  local rc=0
  if [[ ${1-} == --follow-for ]]; then exec env $KUBECTL_STREAM_GO_ENV timeout --foreground -k 5 "$2" kubectl --request-timeout=0 "${@:3}"; fi
  env $KUBECTL_REQUEST_GO_ENV kubectl --request-timeout="$kubectl_timeout" "$@" 2>"$kubectl_err" || rc=$?
  if [[ -s $kubectl_err ]]; then LC_ALL=C sed -e "$UNSAFE_TEXT_SED" -e 's/^/  kubectl: /' "$kubectl_err" >&2; fi
  return "$rc"
}
kc_error() {
  local msg
  msg=$(grep -v '^[[:space:]]*$' "$kubectl_err" 2>/dev/null | tail -n 3 | tr '\n' ' ')
  printf '%s' "${msg% }"
}

# Reads one line of jq @tsv output into the named variables (fields may be empty; @tsv escapes tabs).
read_tsv() {
  local line=$1
  shift
  IFS=$'\037' read -r "$@" <<<"${line//$'\t'/$'\037'}"
}

# The runner writes only to unidesk-ci and to its own temporary namespace.
assert_own_namespace() {
  if [[ $PROTECTED_NAMESPACES == *" $1 "* || $1 != "$temp_namespace" ]]; then
    log "refusing to write to namespace $1: only $temp_namespace is this run's"
    return 1
  fi
}

# ---------------------------------------------------------------- live progress and log streams
# While it waits the runner keeps progress.json (PipelineRun condition, TaskRuns, pods) and streams
# every container's log into pods/ with one background `kubectl logs -f` each (docs/runner.md).

readonly LIVE_DRAIN_MS=10000
declare -A live_stream_pid=() live_stream_rc=()
live_streams=0
live_pending=0
live_progress_body=""

# One poll: everything of this run in unidesk-ci in one list (its PipelineRun, TaskRuns and pods: labels propagate
# PipelineRun → TaskRun → Pod) and the pods of the temporary namespace, read by one jq (JQ_POLL) into the
# PipelineRun's condition (cond_status, cond_reason, cond_message), progress.json and new log streams. Two kubectl
# and one jq per poll (docs/runner.md#live-progress-progressjson-and-pods-streaming). Returns 1 when the
# PipelineRun could not be read (poll_error says why); progress and streams never fail the run.
live_poll() {
  local ci="$work_tmp/live-ci.json" tmp="$work_tmp/live-tmp.json" ns container pod row
  local -a answer=()
  poll_error=""
  # In subshells: a redirected function call would also redirect a signal trap that fires meanwhile.
  if ! (kc -n "$CI_NAMESPACE" get "$PIPELINERUNS,$TASKRUNS,pods" -l "unidesk.ci/run-id=$run_id" -o json) >"$ci"; then
    poll_error=$(kc_error)
    return 1
  fi
  if ! $namespace_created || ! (kc -n "$temp_namespace" get pods -o json) >"$tmp"; then printf '{"items":[]}' >"$tmp"; fi
  mapfile -t answer < <(jq -rs --arg run "$run_id" --arg sha "$manifest_commit" --arg started "$started_at" --arg pr "$pipeline_run" \
    --arg uid "$pipeline_run_uid" "$JQ_POLL" "$ci" "$tmp" 2>/dev/null)
  if ((${#answer[@]} < 2)); then
    poll_error="kubectl's list of the run is not the JSON expected"
    return 1
  fi
  live_write_progress "${answer[1]}"
  live_reap_streams
  for row in "${answer[@]:2}"; do
    IFS=$'\t' read -r ns pod container <<<"$row"
    [[ -n $container && -z ${live_stream_pid["$ns/$pod/$container"]+set} ]] || continue
    live_start_stream "$ns" "$pod" "$container"
  done
  if [[ ${answer[0]} == - ]]; then
    poll_error="PipelineRun $CI_NAMESPACE/$pipeline_run is not in the list of run $run_id"
    return 1
  fi
  if [[ ${answer[0]} == '!' ]]; then
    pipeline_run_foreign=true
    poll_error="PipelineRun $CI_NAMESPACE/$pipeline_run is not the one this run created (uid $pipeline_run_uid): another was put in its place, and its status is not this run's"
    return 1
  fi
  read_tsv "${answer[0]}" cond_status cond_reason cond_message
  # Tekton's (and through it the pods') text, bounded by JQ_POLL: never raw into runner.log or a reason.
  is_plain_text "$cond_reason" || cond_reason=$(one_line "$cond_reason")
  is_plain_text "$cond_message" || cond_message=$(one_line "$cond_message")
}

# >>> generated from src/runner/jq/poll.jq (npm run build) >>>
# shellcheck disable=SC2016
readonly JQ_POLL='# One poll of the run (docs/runner.md#live-progress-progressjson-and-pods-streaming), as lines (jq -r -s):
#   1. the PipelineRun'\''s Succeeded condition: status, reason (<= 100 chars), message (<= 500) as TSV; `-` when the
#      PipelineRun is not in the list, `!` when the one of that name is not the one created (its uid is not $uid);
#   2. progress.json'\''s body without updatedAt, compact JSON;
#   3. ... one TSV row `namespace pod container` per container running or terminated (its log can be streamed).
# Input (jq -s): the objects of the run in unidesk-ci and the pods of the temporary namespace, two `kubectl get -o json` lists.
# Args: --arg run <runId> --arg sha <manifestCommit> --arg started <ISO> --arg pr <PipelineRun name> --arg uid <its uid>.
def cond: [.status.conditions[]? | select(.type == "Succeeded")][0] // {};
def short: if type == "string" then .[0:500] else null end;
def text($n): if type == "string" then .[0:$n] elif . == null then "" else tojson | .[0:$n] end;
[.[].items[]] as $all
| ([$all[] | select(.kind == "PipelineRun" and .metadata.name == $pr)][0]) as $named
# Only the PipelineRun this run created (its uid) is this run'\''s: one put in its place under the same name is `!`.
| (if $named != null and $named.metadata.uid == $uid then $named else null end) as $p
| (if $named == null then "-" elif $p == null then "!"
   else ($p | cond) | [(.status // "Unknown" | text(20)), (.reason | text(100)), (.message | text(500))] | @tsv end),
  ({runId: $run, manifestCommit: $sha, startedAt: $started,
     pipelineRun: (if $p == null then null else ($p | cond) as $c
       | {name: $pr, status: ($c.status // "Unknown"), reason: ($c.reason // ""), message: ($c.message | short),
          startTime: $p.status.startTime, completionTime: $p.status.completionTime} end),
     tasks: [($p.status.pipelineSpec // {}) | ((.tasks // []) + (.finally // []))[] | .name],
     taskRuns: ([$all[] | select(.kind == "TaskRun") | cond as $c
       | {name: .metadata.name, pipelineTask: (.metadata.labels["tekton.dev/pipelineTask"] // ""),
          status: ($c.status // "Unknown"), reason: ($c.reason // ""), message: ($c.message | short),
          startTime: .status.startTime, completionTime: .status.completionTime, pod: .status.podName}]
       | sort_by(.startTime // "", .name)),
     pods: [$all[] | select(.kind == "Pod") | .metadata as $m
       | {namespace: $m.namespace, name: $m.name, phase: .status.phase,
          containers: [((.status.initContainerStatuses // []) + (.status.containerStatuses // []))[]
            | {name, state: ((.state // {}) | keys[0] // "waiting"), log: "pods/\($m.name)_\(.name).log"}]}]} | tojson),
  ([$all[] | select(.kind == "Pod")][] | .metadata as $m
   | ((.status.initContainerStatuses // []) + (.status.containerStatuses // []))[]
   | select(.state.running != null or .state.terminated != null) | [$m.namespace, $m.name, .name] | @tsv)'
# <<< generated <<<
# progress.json from JQ_POLL's body: updatedAt put first, rewritten (temp file + mv) only when the body changed.
live_write_progress() {
  local body=$1 file="$result_dir/${PROGRESS_FILE}" tmp_file="$result_dir/.${PROGRESS_FILE}.$$"
  [[ $body == '{'* && $body != "$live_progress_body" ]] || return 0
  live_progress_body=$body
  printf '{"updatedAt":"%s",%s\n' "$(iso_now)" "${body#'{'}" >"$tmp_file" && mv -f "$tmp_file" "$file"
}

# One `kubectl logs -f` per container into pods/<pod>_<container>.log (`kc --follow-for`: no request timeout, bounded
# by the run's timeout plus a margin); --foreground keeps it in the runner's process group, so killing the group
# kills the streams too.
live_start_stream() {
  local key="$1/$2/$3" file="$result_dir/${PODS_DIR}/${2}_${3}.log"
  live_streams=$((live_streams + 1))
  # 3>&-: a stream that outlives a SIGKILLed runner must not hold the runner's summary line open (fd 3 is the
  # launcher's stderr): whoever waits for the runner's output to end would wait for the stream's bound.
  kc --follow-for "$((timeout_ms / 1000 + WATCHDOG_MARGIN_S))" -n "$1" logs -f --limit-bytes="$POD_LOG_MAX_BYTES" "$2" -c "$3" >"$file" 2>"$work_tmp/stream-$live_streams.err" 3>&- &
  live_stream_pid[$key]=$!
  log "streaming pods/${2}_${3}.log (pid $!)"
}

# Records the exit code of every stream that ended (bash keeps it until `wait` reads it).
live_reap_streams() {
  local key pid
  for key in "${!live_stream_pid[@]}"; do
    pid=${live_stream_pid[$key]}
    [[ -z ${live_stream_rc[$key]+set} ]] || continue
    kill -0 "$pid" 2>/dev/null && continue
    wait "$pid" 2>/dev/null
    live_stream_rc[$key]=$?
  done
}

# Sets live_pending to the number of streams still running.
live_count_pending() {
  local key
  live_reap_streams
  live_pending=0
  for key in "${!live_stream_pid[@]}"; do [[ -n ${live_stream_rc[$key]+set} ]] || live_pending=$((live_pending + 1)); done
}

# Stops the streams still running and reaps them: every exit path ends here (EXIT trap, finish).
live_stop_streams() {
  local key pid
  live_reap_streams
  for key in "${!live_stream_pid[@]}"; do
    [[ -z ${live_stream_rc[$key]+set} ]] || continue
    pid=${live_stream_pid[$key]}
    kill -TERM "$pid" 2>/dev/null
    wait "$pid" 2>/dev/null
    live_stream_rc[$key]=$?
  done
}

# Before the final collection: the last progress, then up to LIVE_DRAIN_MS for the streams to end with
# their containers, then the rest are stopped (their files are re-fetched whole by live_complete_log).
live_finish() {
  local deadline
  live_poll
  deadline=$(($(ms_now) + LIVE_DRAIN_MS))
  while live_count_pending && ((live_pending > 0 && $(ms_now) < deadline)); do nap_ms 100; done
  live_stop_streams
}

# A container's final log. A stream that ended, even with exit 0, may have been cut (kubectl treats a
# dropped connection as the end), so the whole log is fetched again and, as a log only grows, replaces the
# file atomically when the streamed bytes are its prefix: readers' offsets stay valid, nothing is repeated.
# When the fetch fails (pod gone) or does not start with the streamed bytes, the streamed file stays.
live_complete_log() {
  local ns=$1 pod=$2 container=$3 file=$4 tmp_file="$result_dir/${PODS_DIR}/.${2}_${3}.log.$$" streamed=0 note size
  [[ -f $file ]] && streamed=$(wc -c <"$file")
  note="stream exit ${live_stream_rc["$ns/$pod/$container"]-none}"
  if ! (kc -n "$ns" logs --limit-bytes="$POD_LOG_MAX_BYTES" "$pod" -c "$container") >"$tmp_file"; then
    rm -f "$tmp_file"
    if ((streamed > 0)); then
      log "kept streamed pods/${pod}_${container}.log ($streamed bytes, $note; fetching it whole failed: $(kc_error))"
      note_cut_log "$file" "$streamed"
    else
      printf '[unidesk-ci: no log for %s/%s: %s]\n' "$pod" "$container" "$(kc_error)" >>"$file"
    fi
    return 0
  fi
  if ((streamed > 0)) && ! cmp -s -n "$streamed" "$file" "$tmp_file"; then
    rm -f "$tmp_file"
    log "kept streamed pods/${pod}_${container}.log ($streamed bytes, $note): the whole log fetched now does not start with it"
    note_cut_log "$file" "$streamed"
    return 0
  fi
  mv -f "$tmp_file" "$file"
  size=$(wc -c <"$file")
  log "saved pods/${pod}_${container}.log ($size bytes, $streamed streamed, $note)"
  note_cut_log "$file" "$size"
}

# A log of $2 bytes saved at POD_LOG_MAX_BYTES was cut there (kubectl --limit-bytes): said at its end and in runner.log.
note_cut_log() {
  (($2 >= POD_LOG_MAX_BYTES)) || return 0
  printf '\n[unidesk-ci: log cut at %s bytes (POD_LOG_MAX_BYTES)]\n' "$POD_LOG_MAX_BYTES" >>"$1"
  log "pods/${1##*/} was cut at $POD_LOG_MAX_BYTES bytes (POD_LOG_MAX_BYTES)"
}

# ---------------------------------------------------------------- failures and phases of result.json
# docs/runner.md#failures and #phases; their bounds are in the generated rules block at the top.
# The runner's own phases: name → ISO start / end, in the order they began.
declare -A phase_start=() phase_end=()
phase_names=()
# result.json's `failures` and `phases` as compact JSON, set by record_failures_phases (empty: none known, e.g. no jq).
result_failures="" result_phases=""

phase_begin() {
  phase_names+=("$1")
  phase_start[$1]=$(iso_now)
}
phase_done() { [[ -z ${phase_start[$1]+set} ]] || phase_end[$1]=$(iso_now); }

# At finish: a phase the run was in ends now, unless a cancel or timeout cut it short (finishedAt stays null).
phases_at_finish() {
  local name
  [[ $1 == cancelled || $1 == timeout ]] && return 0
  for name in "${phase_names[@]}"; do [[ -n ${phase_end[$name]+set} ]] || phase_done "$name"; done
}

# >>> generated from src/runner/jq/failures.jq (npm run build) >>>
# shellcheck disable=SC2016
readonly JQ_FAILURES='# The failed steps of a run (docs/runner.md#failures), in TaskRun start order, without their log tails.
# Input: taskruns.json (a `kubectl get taskruns -o json` list). Args: --argjson max <FAILURE_LINE_MAX_CHARS>.
def cond: [.status.conditions[]? | select(.type == "Succeeded")][0] // {};
def text: if type == "string" then . else "" end;
# Tekton'\''s words as one line, as one_line/json_str keep every other string of result.json (docs/security.md): C0
# controls (newlines too), DEL, LS and PS become spaces; C1 controls and bidi overrides/isolates go.
def cut: text | .[0:$max] | explode
  | map(if . < 32 or . == 127 or . == 8232 or . == 8233 then 32
        elif (. >= 128 and . < 160) or (. >= 8234 and . <= 8238) or (. >= 8294 and . <= 8297) then empty else . end)
  | implode;
[.items[]? | select(.kind == null or .kind == "TaskRun") | cond as $c
 | select($c.status == "False" and ($c.reason | text) != "TaskRunCancelled")
 | (.metadata.labels["tekton.dev/pipelineTask"] // .metadata.name | text) as $task
 | (.status.podName | text) as $pod | (.status.startTime | text) as $at | (.status.completionTime // "~" | text) as $done
 | [.status.steps[]? | select(type == "object" and (.terminated | type) == "object"
     and (.terminated.exitCode | type) == "number" and .terminated.exitCode != 0 and .terminationReason != "Skipped")] as $failed
 | if ($failed | length) > 0 then $failed[]
     | ((.container | text) as $k | if $k != "" then $k else "step-\(.name | text)" end) as $container
     | {at: $at, done: $done, task: $task, step: ((.name | text) as $n | if $n != "" then $n else ($container | ltrimstr("step-")) end),
        exitCode: .terminated.exitCode, reason: ((.terminated.reason | text) as $r | if $r != "" then $r else $c.reason end | cut),
        message: (if ($failed | length) == 1 or ($c.message | text | contains("\"\($container)\"")) then $c.message | cut
                  else "\"\($container)\" exited with code \(.terminated.exitCode)" end),
        log: (if $pod != "" then "pods/\($pod)_\($container).log" else null end)}
   else {at: $at, done: $done, task: $task, step: null, exitCode: null, reason: ($c.reason | cut), message: ($c.message | cut), log: null} end]
| sort_by(.at, .done) | map(del(.at, .done))'
# <<< generated <<<
# >>> generated from src/runner/jq/record.jq (npm run build) >>>
# shellcheck disable=SC2016
readonly JQ_RECORD='# result.json: `failures` and `phases` (docs/runner.md#failures, #phases), fitted into the budget: two lines of
# compact JSON, the failures then the phases. Input: none (jq -n). Args: --slurpfile failures (the output of failures.jq),
# --slurpfile tails (one {log, tail} per failure), --slurpfile pr (pipelinerun.json), --slurpfile trs (taskruns.json),
# --rawfile own (the phases of the runner: name<TAB>start<TAB>end lines), --argjson created <bool>, --argjson n
# <FAILURES_MAX>, --argjson budget <bytes>, --arg iso <ISO_TIME_RE>.
def cond: [.status.conditions[]? | select(.type == "Succeeded")][0] // {};
def time: if type == "string" and test($iso) then . else null end;
def stopped: (cond) as $c | ($c.status != "True" and $c.status != "False")
  or (($c.reason // "") | IN("TaskRunCancelled", "Cancelled", "PipelineRunCancelled", "StoppedRunFinally", "CancelledRunFinally", "PipelineRunTimeout"));
def ended: if stopped then null else (.status.completionTime | time) end;
def size: tojson | utf8bytelength;
def fit($b): if size <= $b or (.tail | length) == 0 then . else .tail |= .[1:] | fit($b) end;
($pr[0] | if .kind == "PipelineRun" then . else null end) as $p
| [$own | split("\n")[] | select(. != "") | split("\t") | {name: .[0], startedAt: (.[1] | time), finishedAt: (.[2] | time)}
   | if .name != "pipelinerun" or ($created | not) then .
     elif $p == null then .finishedAt = null
     else .startedAt = (($p.status.startTime | time) // ($p.metadata.creationTimestamp | time) // .startedAt) | .finishedAt = ($p | ended) end
   | select(.startedAt != null)] as $runner
| [$p.status.pipelineSpec? // {} | (.tasks // []) + (.finally // []) | .[].name?] as $declared
| [$trs[0].items[]? | (.metadata.labels["tekton.dev/pipelineTask"] // .metadata.name) as $task
   | {name: "task:\($task)", declared: ($declared | index([$task]) // 1e9),
    startedAt: ((.status.startTime | time) // (.metadata.creationTimestamp | time)), finishedAt: ended}
   | select(.startedAt != null)] | sort_by(.startedAt, .finishedAt // "~", .declared, .name) | map(del(.declared)) as $tasks
| ($runner | map(select(.name != "logs"))) + $tasks + ($runner | map(select(.name == "logs")))
| until(length == 0 or size <= ($budget / 4 | floor); .[:-1]) as $phases
| ($budget - ($phases | size)) as $rest
| [$failures[0][:$n] | to_entries[] | .value + ($tails[.key] // {log: null, tail: []})] as $all
| ($rest / ([$all | length, 1] | max) | floor) as $each
| [$all[] | fit($each)] | until(length == 0 or size <= $rest; .[:-1])
| tojson, ($phases | tojson)'
# <<< generated <<<
# One failed step's log tail as a JSON array: the last FAILURE_TAIL_LINES lines, each cut to FAILURE_LINE_MAX_CHARS
# characters (a cut line ends in '…'). Only the first bytes of each line are read (a character is at most 4
# bytes), so a huge line costs nothing; invalid UTF-8 becomes U+FFFD, NUL and other controls are JSON-escaped.
failure_tail_json() {
  tail -n "$FAILURE_TAIL_LINES" -- "$1" 2>/dev/null | LC_ALL=C cut -b "1-$((FAILURE_LINE_MAX_CHARS * 4 + 4))" |
    jq -R -s -c --argjson max "$FAILURE_LINE_MAX_CHARS" \
      'split("\n") | (if .[-1] == "" then .[:-1] else . end) | map(if length > $max then .[0:$max - 1] + "\u2026" else . end)'
}

# Sets result_failures and result_phases for result.json: `failures` (the failed steps of the run's TaskRuns, only when the run
# did not succeed; [] otherwise) and `phases`, both fitted into what RESULT_MAX_BYTES leaves beside the other
# fields. Reads pipelinerun.json, taskruns.json and pods/ as collected; never fails the run.
record_failures_phases() {
  local status=$1 reason=$2 tmp="$work_tmp/record" launcher_line fetch_start="" name log budget tails more fields
  result_failures="" result_phases=""
  command -v jq >/dev/null 2>&1 || return 0
  mkdir -p "$tmp" || return 0
  # fetch: the launcher accepted the run (first line of its launcher.log) → this runner started.
  IFS= read -r launcher_line 2>/dev/null <"$result_dir/${LAUNCHER_LOG}"
  [[ ${launcher_line-} == *" launcher accepted run "* && ${launcher_line%% *} =~ $ISO_TIME_RE ]] && fetch_start=${launcher_line%% *}
  {
    [[ -n $fetch_start ]] && printf 'fetch\t%s\t%s\n' "$fetch_start" "$started_at"
    for name in "${phase_names[@]}"; do printf '%s\t%s\t%s\n' "$name" "${phase_start[$name]}" "${phase_end[$name]-}"; done
  } >"$tmp/phases.tsv"
  # What kubectl saved, when it is a JSON object (a failed save leaves an empty or partial file).
  for name in taskruns pipelinerun; do
    jq -e 'type == "object"' "$result_dir/$name.json" >/dev/null 2>&1 && cp "$result_dir/$name.json" "$tmp/$name.json" ||
      printf '{}' >"$tmp/$name.json"
  done
  # The failed steps, in TaskRun start order: a step that exited non-zero (not one Tekton skipped after an
  # earlier failure), or the TaskRun itself (step null) when it failed without such a step. Cancelled TaskRuns
  # did not fail. The message is Tekton's when it names this step or this is the TaskRun's only failed step.
  if [[ $status == succeeded ]] || ! jq -c --argjson max "$FAILURE_LINE_MAX_CHARS" "$JQ_FAILURES" "$tmp/${TASKRUNS_FILE}" >"$tmp/failures.json" 2>"$tmp/jq.err"; then
    [[ $status == succeeded ]] || log "failures: could not read taskruns.json: $(head -c 300 "$tmp/jq.err")"
    printf '[]' >"$tmp/failures.json"
  fi
  more=$(jq --argjson n "$FAILURES_MAX" 'length - $n' "$tmp/failures.json" 2>/dev/null)
  ((${more:-0} > 0)) && log "failures: $more more failed steps than the $FAILURES_MAX recorded in result.json (see taskruns.json)"
  # One tail per recorded failure, in order (null log: the file is not there or the name is not a pods/ log).
  : >"$tmp/tails.ndjson"
  while IFS= read -r log; do
    if [[ $log =~ ^${PODS_DIR}/[a-z0-9][a-z0-9.-]*_[a-z0-9][a-z0-9-]*\.log$ && -f $result_dir/$log ]] && tails=$(failure_tail_json "$result_dir/$log"); then
      printf '{"log":"%s","tail":%s}\n' "$log" "$tails"
    else
      printf '{"log":null,"tail":[]}\n'
    fi
  done < <(jq -r --argjson n "$FAILURES_MAX" '.[:$n][] | .log // ""' "$tmp/failures.json" 2>/dev/null) >>"$tmp/tails.ndjson"
  # What RESULT_MAX_BYTES leaves: the other fields are at most 1 KiB beside reason and tektonReason.
  budget=$((RESULT_MAX_BYTES - 1024 - $(json_str "$reason" | LC_ALL=C wc -c) - $(json_str "$tekton_reason" | LC_ALL=C wc -c)))
  ((budget > 0)) || budget=0
  # phases: the runner's own, the PipelineRun and each TaskRun as Tekton timed them (one clock, whole
  # seconds); finishedAt null for what a cancel or timeout stopped, or what had not ended. Then both lists are
  # fitted: phases get at most a quarter of the budget, each failure an equal share of the rest (its oldest
  # tail lines go first), and entries beyond it go from the end.
  if fields=$(jq -n -r --slurpfile failures "$tmp/failures.json" --slurpfile tails "$tmp/tails.ndjson" \
    --slurpfile pr "$tmp/${PIPELINERUN_JSON_FILE}" --slurpfile trs "$tmp/${TASKRUNS_FILE}" --rawfile own "$tmp/phases.tsv" \
    --argjson created "$pipeline_run_created" --argjson n "$FAILURES_MAX" --argjson budget "$budget" --arg iso "${ISO_TIME_RE}" "$JQ_RECORD" 2>"$tmp/jq.err"); then
    { IFS= read -r result_failures && IFS= read -r result_phases; } <<<"$fields" || result_failures="" result_phases=""
  else
    log "could not record failures and phases: $(head -c 300 "$tmp/jq.err")"
  fi
}

# ---------------------------------------------------------------- the end of every path

# THE writer of result.json, the runner's own (write_result) and a lost run's (write_lost_result): the fields, given
# as `name json-value` pairs, as one object with one field a line, written to a temp file in dir $1 first. $2 how:
# `replace` moves it over (the run's own runner), `new` links it only where no result.json is (no-clobber: a
# result written meanwhile wins, status 1). No jq: result.json must be writable even when jq is missing.
write_result_json() {
  local dir=$1 how=$2 tmp sep="" rc=0
  shift 2
  tmp="$dir/.${RESULT_FILE}.$$"
  [[ $how == replace ]] || tmp="$dir/.${RESULT_FILE}.sweep.$$"
  {
    printf '{'
    while (($# >= 2)); do
      printf '%s\n  "%s": %s' "$sep" "$1" "$2"
      sep=,
      shift 2
    done
    printf '\n}\n'
  } >"$tmp" || rc=1
  if ((rc == 0)) && [[ $how == replace ]]; then
    mv -f -- "$tmp" "$dir/${RESULT_FILE}" || rc=1
  elif ((rc == 0)); then
    ln -- "$tmp" "$dir/${RESULT_FILE}" 2>/dev/null || rc=1
  fi
  rm -f -- "$tmp"
  return "$rc"
}

# This run's result.json (docs/runner.md#resultjson), last of all.
write_result() {
  local status=$1 reason=$2 ok=false pr_field="" ns_field="" finished_at end_ms
  local -a record=()
  [[ $status == succeeded ]] && ok=true
  finished_at=$(iso_now)
  end_ms=$(ms_now)
  $pipeline_run_created && pr_field=$pipeline_run
  $namespace_created && ns_field=$temp_namespace
  [[ -n $result_failures && -n $result_phases ]] && record=(failures "$result_failures" phases "$result_phases")
  write_result_json "$result_dir" replace ok "$ok" status "$(json_str "$status")" runId "$(json_str "$run_id")" \
    manifestCommit "$(json_str "$manifest_commit")" pipelineRun "$(json_or_null "$pr_field")" \
    temporaryNamespace "$(json_or_null "$ns_field")" keepNamespace "$keep_namespace" namespaceDeleted "$namespace_deleted" \
    startedAt "$(json_str "$started_at")" finishedAt "$(json_str "$finished_at")" durationMs "$((end_ms - start_ms))" \
    reason "$(json_str "$reason")" tektonReason "$(json_or_null "$tekton_reason")" "${record[@]}" writer '"runner"'
}

cancel_pipeline_run() {
  log "cancelling PipelineRun $CI_NAMESPACE/$pipeline_run"
  if ! kc -n "$CI_NAMESPACE" patch "$PIPELINERUNS" "$pipeline_run" --type merge -p '{"spec":{"status":"Cancelled"}}' -o name; then
    log "could not cancel PipelineRun: $(kc_error)"
    return 0
  fi
  local deadline=$(($(ms_now) + cancel_wait_ms))
  while (($(ms_now) < deadline)); do
    if live_poll && [[ $cond_status != Unknown ]]; then
      tekton_reason=$cond_reason
      log "PipelineRun stopped: $cond_reason"
      return 0
    fi
    nap_ms "$((poll_ms < 1000 ? poll_ms : 1000))"
  done
  log "Tekton did not confirm the cancel within ${cancel_wait_ms}ms; collecting anyway"
}

collect_pod_logs() {
  local ns=$1 selector=$2 pod container file
  local -a sel=()
  [[ -n $selector ]] && sel=(-l "$selector")
  if ! kc -n "$ns" get pods "${sel[@]}" -o json >"$work_tmp/pods.json"; then
    log "could not list pods in $ns: $(kc_error)"
    return 0
  fi
  while read -r pod container; do
    [[ -n $pod && -n $container ]] || continue
    file="$result_dir/${PODS_DIR}/${pod}_${container}.log"
    live_complete_log "$ns" "$pod" "$container" "$file"
  done < <(jq -r '.items[] | .metadata.name as $p | ((.spec.initContainers // []) + (.spec.containers // []))[] | "\($p) \(.name)"' "$work_tmp/pods.json")
}

collect_artifacts() {
  log "collecting PipelineRun, TaskRuns and pod logs"
  kc -n "$CI_NAMESPACE" get "$PIPELINERUNS" "$pipeline_run" -o json >"$result_dir/${PIPELINERUN_JSON_FILE}" ||
    log "could not save pipelinerun.json: $(kc_error)"
  kc -n "$CI_NAMESPACE" get "$TASKRUNS" -l "tekton.dev/pipelineRun=$pipeline_run" -o json >"$result_dir/${TASKRUNS_FILE}" ||
    log "could not save taskruns.json: $(kc_error)"
  collect_pod_logs "$CI_NAMESPACE" "tekton.dev/pipelineRun=$pipeline_run"
  if $namespace_attempted; then collect_pod_logs "$temp_namespace" ""; fi
}

# Deletes the temporary namespace only when it carries this very invocation's labels.
delete_namespace() {
  local owned
  assert_own_namespace "$temp_namespace" || return 0
  if ! kc get namespace "$temp_namespace" -o json >"$work_tmp/namespace.json"; then
    log "temporary namespace $temp_namespace not readable, not deleting it: $(kc_error)"
    return 0
  fi
  owned=$(jq -r --arg run "$run_id" --arg inst "$instance" --arg by "$MANAGED_BY" \
    '(.metadata.labels["app.kubernetes.io/managed-by"] == $by and .metadata.labels["unidesk.ci/run-id"] == $run
      and .metadata.annotations["unidesk.ci/runner-instance"] == $inst)' "$work_tmp/namespace.json")
  if [[ $owned != true ]]; then
    log "namespace $temp_namespace was not created by this runner (labels differ); leaving it alone"
    return 0
  fi
  log "deleting temporary namespace $temp_namespace"
  if kc delete namespace "$temp_namespace" --wait=false; then
    namespace_deleted=true
  else
    log "could not delete namespace $temp_namespace: $(kc_error)"
  fi
}

finished=false
# The single exit: cancel if needed, collect, clean up, write result.json last.
finish() {
  local status=$1 reason=$2 code
  $finished && return 0
  finished=true
  trap '' TERM INT
  phases_at_finish "$status"
  if $pipeline_run_attempted && [[ $status == timeout || $status == cancelled ]]; then cancel_pipeline_run; fi
  if $pipeline_run_attempted; then
    phase_begin logs
    live_finish
    collect_artifacts
    phase_done logs
  fi
  if $namespace_attempted; then
    if $keep_namespace; then log "keeping temporary namespace $temp_namespace (--keep-namespace)"; else delete_namespace; fi
  fi
  log "run $status: $reason"
  record_failures_phases "$status" "$reason"
  write_result "$status" "$reason"
  log "wrote result.json"
  rm -rf "$work_tmp"
  printf 'dev-e2e.sh: run %s %s: %s (see %s)\n' "$run_id" "$status" "$(one_line "$reason")" "$result_dir" >&3
  case $status in
    succeeded) code=0 ;;
    failed) code=1 ;;
    timeout) code=4 ;;
    cancelled) code=${signal_code:-130} ;;
    *) code=3 ;;
  esac
  exit "$code"
}

signal_code=""
on_signal() {
  signal_code=$2
  [[ -n $nap_pid ]] && kill "$nap_pid" 2>/dev/null
  log "received $1"
  finish cancelled "runner received $1; PipelineRun cancelled and temporary namespace cleaned up"
}

# ---------------------------------------------------------------- sweep: what dead runs left behind

# The runs root holds one directory per run id; every run sweeps it before it creates anything. The work root is
# known when --manifest-file is <workRoot>/<runId>/deploy.json (the launcher's layout); else it is empty.
init_roots() {
  readonly runs_root=${result_dir%/*}
  work_root=${manifest_file%/*}
  if [[ ${manifest_file##*/} == "$MANIFEST_FILE" && ${work_root##*/} == "$run_id" && ${work_root%/*} == /?* ]]; then
    work_root=${work_root%/*}
  else
    work_root=""
  fi
  readonly work_root
}

# Per run id: state (live/finished/dead), why it is dead, result.json's keepNamespace and finishedAt, what
# the cluster holds of it and what the sweep did there, and whether something is left to sweep.
declare -A run_state=() run_why=() result_keep=() result_finished=() commit_of=() sweep_pending=()
declare -A ns_of=() ns_done=() pr_of=() pr_cancelled=()
declare -a dead_runs=()

# The readers' liveness rule (uci_pid_runs, UCI_PID_SEEN), so the sweep calls lost exactly what they do.
# >>> generated from src/host/run-liveness.sh (npm run build) >>>
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
# <<< generated <<<

# Sets run_state[$id] (live / finished / dead) and run_why[$id] for one run directory.
classify_run() {
  local id=$1 dir=$2 f pid has_pid=false
  run_why[$id]=""
  for f in "$LAUNCHER_PID_FILE" "$RUNNER_PID_FILE"; do
    [[ -f $dir/$f ]] || continue
    has_pid=true
    pid=""
    read -r pid <"$dir/$f" 2>/dev/null
    uci_pid_runs "$pid" "$dir"
    case $? in
      0) run_state[$id]=live && return ;;
      2) run_state[$id]=live && log "sweep: $id: cannot read /proc/$pid/cmdline; treating the run as live" && return ;;
    esac
    [[ $pid =~ ^[0-9]{1,10}$ ]] || pid="?"
    run_why[$id]+="${run_why[$id]:+, }$f $pid is $UCI_PID_SEEN"
  done
  # Checked after the pids: a run writes result.json before its processes exit, so none can appear now.
  if [[ -f $dir/${RESULT_FILE} ]]; then
    run_state[$id]=finished
    return
  fi
  if ! $has_pid; then
    # The readers' age rule (uci_young): a dir dated far ahead of a clock set back is not young for ever.
    if uci_young "$dir"; then
      run_state[$id]=live
      return
    fi
    run_why[$id]="no launcher.pid or runner.pid after ${SWEEP_GRACE_S}s"
    ((UCI_AGE < 0)) && run_why[$id]+=" (dated $((-UCI_AGE))s in the future: the clock was set back)"
  fi
  run_state[$id]=dead
  dead_runs+=("$id")
}

# Reads runId, keepNamespace and finishedAt of every finished run's result.json (at most 256 KiB each)
# with one awk and one jq: awk puts a record separator (never raw in JSON) and the file name before
# each file. A result.json that does not parse or names another run is ignored.
read_finished_results() {
  local row file rid keep at id
  while IFS= read -r row; do
    read_tsv "$row" file rid keep at
    id=${file%/"$RESULT_FILE"}
    id=${id##*/}
    [[ ${run_state[$id]-} == finished && $rid == "$id" ]] || continue
    result_keep[$id]=$keep
    result_finished[$id]=$at
  done < <(find "$runs_root" -mindepth 2 -maxdepth 2 -name "$RESULT_FILE" -type f -size -257k -print0 2>/dev/null |
    xargs -0 -r awk 'FNR == 1 { printf "\036%s\n", FILENAME } { print }' |
    jq -R -s -r 'split("\u001e")[1:][] | split("\n") | .[0] as $file | (.[1:] | join("\n") | try fromjson catch null) as $r |
      [$file, ($r | objects | .runId | strings) // "", ($r | objects | .keepNamespace | tostring) // "",
       ($r | objects | .finishedAt | strings) // ""] | @tsv')
}

# >>> generated from src/runner/jq/sweep-namespaces.jq (npm run build) >>>
# shellcheck disable=SC2016
readonly JQ_SWEEP_NAMESPACES='# Rows for the sweep: the unidesk-ci namespaces (docs/runner.md#the-sweep-every-run-ends-even-after-a-crash):
# name, run id, keep-namespace annotation, terminating|active, manifest commit, runner instance, as TSV (jq -r).
# Input: `kubectl get namespaces -l … -o json`; anything else (a Status) is an error, never no rows.
(if (.items | type) == "array" then .items[] else error("not a list") end) | [.metadata.name, .metadata.labels["unidesk.ci/run-id"],
(.metadata.annotations["unidesk.ci/keep-namespace"] // ""),
(if .metadata.deletionTimestamp != null or .status.phase == "Terminating" then "terminating" else "active" end),
(.metadata.labels["unidesk.ci/manifest-commit"] // ""), (.metadata.annotations["unidesk.ci/runner-instance"] // "")] | @tsv'
# <<< generated <<<
# >>> generated from src/runner/jq/sweep-pipelineruns.jq (npm run build) >>>
# shellcheck disable=SC2016
readonly JQ_SWEEP_PIPELINERUNS='# Rows for the sweep: the unidesk-ci PipelineRuns: name, run id, Succeeded status (Unknown when none), spec.status,
# manifest commit, runner instance, as TSV (jq -r). Input: `kubectl -n unidesk-ci get pipelineruns -l … -o json`; anything else
# (a Status) is an error, never no rows.
(if (.items | type) == "array" then .items[] else error("not a list") end) | [.metadata.name, .metadata.labels["unidesk.ci/run-id"],
(([.status.conditions[]? | select(.type == "Succeeded")][0].status) // "Unknown"), (.spec.status // ""),
(.metadata.labels["unidesk.ci/manifest-commit"] // ""), (.metadata.annotations["unidesk.ci/runner-instance"] // "")] | @tsv'
# <<< generated <<<
# Deletes the labelled namespace $1 of run $2 (checked by the caller), recording a failure as pending.
sweep_delete_namespace() {
  local ns=$1 id=$2
  if [[ $PROTECTED_NAMESPACES == *" $ns "* || $ns != "${NAMESPACE_PREFIX}$id" ]]; then
    log "sweep: refusing to delete namespace $ns for run $id"
    return 1
  fi
  log "sweep: deleting namespace $ns of ${run_state[$id]} run $id"
  if kc delete namespace "$ns" --wait=false -o name; then return 0; fi
  if [[ $(kc_error) == *NotFound* || $(kc_error) == *"not found"* ]]; then return 0; fi
  log "sweep: could not delete namespace $ns: $(kc_error)"
  sweep_pending[$id]=1
  return 1
}

# The cluster half: namespaces and PipelineRuns carrying unidesk-ci's labels whose run is dead or
# finished. 1 when the cluster cannot be listed (nothing is then proven swept).
# Whether run $1's directory recorded runner instance $2 (a plain file of ours, read by bash, no process): 0, the
# proof that an object annotated with $2 is that run's; 1, it recorded another (the object is not the run's); 2, it
# recorded none (a runner older than the record): unproven, so the object stays and so does the run dir, the evidence.
sweep_owned() {
  local file="$runs_root/$1/${RUNNER_INSTANCE_FILE}" recorded=""
  [[ -f $file && ! -L $file && -O $file ]] || return 2
  read -r recorded <"$file" 2>/dev/null
  [[ $recorded =~ ^[0-9a-f]{1,64}$|^[0-9]{1,40}$ ]] || return 2
  [[ $recorded == "$2" ]]
}

# After sweep_owned "$id" "$inst" failed with $1 for object $2 (what it is) of run $3: logs it; a run without the
# record keeps its directory (sweep_pending) as the evidence of what it may have left.
sweep_not_owned() {
  if (($1 == 2)); then
    log "sweep: $2 is labelled for run $3, which recorded no runner-instance to prove it its own; leaving it, and the run's directory"
    sweep_pending[$3]=1
  else
    log "sweep: $2 is labelled for run $3 but its runner did not create it (runner-instance is not the one $3 recorded); leaving it alone"
  fi
}

sweep_cluster() {
  local selector="app.kubernetes.io/managed-by=$MANAGED_BY,unidesk.ci/run-id" row name id keep phase sha cond spec_status ns_rows pr_rows inst
  if ! kc get namespaces -l "$selector" -o json >"$work_tmp/sweep-namespaces.json" ||
    ! kc -n "$CI_NAMESPACE" get "$PIPELINERUNS" -l "$selector" -o json >"$work_tmp/sweep-pipelineruns.json"; then
    log "sweep: cannot list unidesk-ci's namespaces and PipelineRuns, leaving the cluster alone: $(kc_error)"
    return 1
  fi
  # Both read before anything is done: an answer that is no list (a Status, exit 0) is "not swept", never "nothing
  # to sweep" (retention would then remove a run dir whose namespace no sweep will look at again).
  if ! ns_rows=$(jq -r "$JQ_SWEEP_NAMESPACES" "$work_tmp/sweep-namespaces.json" 2>/dev/null) ||
    ! pr_rows=$(jq -r "$JQ_SWEEP_PIPELINERUNS" "$work_tmp/sweep-pipelineruns.json" 2>/dev/null); then
    log "sweep: kubectl's answer for unidesk-ci's namespaces or PipelineRuns is not a list of them, leaving the cluster alone"
    return 1
  fi
  while IFS= read -r row; do
    read_tsv "$row" name id keep phase sha inst
    [[ $id =~ $RUN_ID_RE && $id != "$run_id" && -n ${run_state[$id]-} ]] || continue
    [[ ${run_state[$id]} == live ]] && continue
    [[ $name == "${NAMESPACE_PREFIX}$id" ]] || { log "sweep: namespace $name is labelled for run $id but not named ${NAMESPACE_PREFIX}$id; leaving it alone"; continue; }
    sweep_owned "$id" "$inst" || { sweep_not_owned $? "namespace $name" "$id"; continue; }
    [[ $sha =~ $SHA_RE ]] && commit_of[$id]=$sha
    ns_of[$id]=$name
    if [[ $phase == terminating ]]; then continue; fi
    if [[ ${run_state[$id]} == dead ]]; then
      if [[ $keep == true ]]; then
        log "sweep: keeping namespace $name of lost run $id (--keep-namespace)"
        ns_done[$id]=kept
      elif sweep_delete_namespace "$name" "$id"; then
        ns_done[$id]=deleted
      fi
    # A finished run: deleted when its result.json (or, without that field, the namespace) says keep
    # false; kept when either says true; otherwise unproven, so its directory is kept as the evidence.
    elif [[ ${result_keep[$id]-} == false || ${result_keep[$id]-null} == null && $keep == false ]]; then
      sweep_delete_namespace "$name" "$id"
    elif [[ ${result_keep[$id]-} != true && $keep != true ]]; then
      log "sweep: namespace $name of finished run $id: neither result.json nor the namespace says whether to keep it; leaving it"
      sweep_pending[$id]=1
    fi
  done <<<"$ns_rows"
  while IFS= read -r row; do
    read_tsv "$row" name id cond spec_status sha inst
    [[ $id =~ $RUN_ID_RE && $id != "$run_id" && -n ${run_state[$id]-} && ${run_state[$id]} != live && $name == "${PIPELINERUN_PREFIX}$id" ]] || continue
    sweep_owned "$id" "$inst" || { sweep_not_owned $? "PipelineRun $name" "$id"; continue; }
    [[ $sha =~ $SHA_RE ]] && commit_of[$id]=$sha
    pr_of[$id]=$name
    [[ $cond == Unknown && $spec_status != Cancelled* && $spec_status != StoppedRunFinally ]] || continue
    log "sweep: cancelling PipelineRun $CI_NAMESPACE/$name of ${run_state[$id]} run $id"
    if kc -n "$CI_NAMESPACE" patch "$PIPELINERUNS" "$name" --type merge -p '{"spec":{"status":"Cancelled"}}' -o name; then
      pr_cancelled[$id]=1
    else
      log "sweep: could not cancel PipelineRun $name: $(kc_error)"
      sweep_pending[$id]=1
    fi
  done <<<"$pr_rows"
}

# Writes the definite result.json of dead run $1 (no-clobber: a result written meanwhile wins).
write_lost_result() {
  local id=$1 dir="$runs_root/$1" commit=${commit_of[$1]-} finished_at reason ns_deleted=false keep=false pr=${pr_of[$1]-}
  # The launcher's owner record first: it is written before launcher.log, so a launcher that died at once named it.
  [[ -z $commit && -f $dir/${COMMIT_FILE} && ! -L $dir/${COMMIT_FILE} ]] && commit=$(head -c 41 "$dir/${COMMIT_FILE}" 2>/dev/null | tr -d '\n')
  if [[ ! $commit =~ $SHA_RE ]]; then
    commit=$(cat "$dir/${RUNNER_LOG}" "$dir/${LAUNCHER_LOG}" 2>/dev/null | grep -oE -m1 'commit [0-9a-f]{40}' | head -n 1)
    commit=${commit#commit }
  fi
  if [[ ! $commit =~ $SHA_RE ]]; then
    log "sweep: run $id is lost but names no manifest commit in ${COMMIT_FILE}, its logs or labels; no result.json written"
    sweep_pending[$id]=1
    return 1
  fi
  # A PipelineRun gone from the cluster is still named when the run had recorded it.
  [[ -z $pr && -f $dir/${PIPELINERUN_FILE} && $(head -c 100 "$dir/${PIPELINERUN_FILE}") == "${PIPELINERUN_PREFIX}$id" ]] && pr="${PIPELINERUN_PREFIX}$id"
  [[ ${ns_done[$id]-} == deleted ]] && ns_deleted=true
  [[ ${ns_done[$id]-} == kept ]] && keep=true
  reason="run lost: it ended without result.json and no launcher or runner of it is running (${run_why[$id]}); swept by run $run_id"
  [[ -n ${pr_cancelled[$id]-} ]] && reason+="; PipelineRun $pr cancelled"
  $ns_deleted && reason+="; temporary namespace ${ns_of[$id]} deleted"
  $keep && reason+="; temporary namespace ${ns_of[$id]} kept (--keep-namespace)"
  finished_at=$(iso_now)
  if write_result_json "$dir" new ok false status '"lost"' runId "$(json_str "$id")" manifestCommit "$(json_str "$commit")" \
    pipelineRun "$(json_or_null "$pr")" temporaryNamespace "$(json_or_null "${ns_of[$id]-}")" keepNamespace "$keep" \
    namespaceDeleted "$ns_deleted" finishedAt "$(json_str "$finished_at")" reason "$(json_str "$reason")" writer '"sweep"' \
    sweptBy "$(json_str "$run_id")"; then
    log "sweep: $reason"
    result_finished[$id]=$finished_at
    run_state[$id]=finished
  else
    log "sweep: run $id got a result.json meanwhile; leaving it"
  fi
}

# Retention: keeps the newest keep_runs finished runs (by finishedAt); running runs, runs without a
# readable finishedAt and runs whose cluster leftovers are not gone yet are never removed.
prune_runs() {
  local id at removed=0 total=0
  for id in "${!result_finished[@]}"; do
    [[ ${run_state[$id]} == finished && -n ${result_finished[$id]} && -z ${sweep_pending[$id]-} ]] && total=$((total + 1))
  done
  while read -r at id; do
    [[ -n $id && -f $runs_root/$id/${RESULT_FILE} && ! -L $runs_root/$id ]] || continue
    if rm -rf -- "${runs_root:?}/$id"; then removed=$((removed + 1)); else log "retention: could not remove $runs_root/$id"; fi
  done < <(for id in "${!result_finished[@]}"; do
    [[ ${run_state[$id]} == finished && -n ${result_finished[$id]} && -z ${sweep_pending[$id]-} ]] && printf '%s %s\n' "${result_finished[$id]}" "$id"
  done | LC_ALL=C sort -r | tail -n +"$((keep_runs + 1))")
  log "retention: $total finished runs in $runs_root, keeping the newest $keep_runs, removed $removed"
}

# Work-root entries of finished runs go: <workRoot>/<id> of every run the sweep found finished and not live (a
# lost run just swept too), and only a plain directory (never a symlink) named by a valid run id, never this run's.
clean_work_root() {
  local id removed=0
  if [[ -z $work_root ]]; then
    log "work root: --manifest-file is not <workRoot>/$run_id/deploy.json; leaving work dirs alone"
    return 0
  fi
  if [[ $work_root -ef $runs_root ]]; then
    log "work root: $work_root is the runs root; leaving it alone"
    return 0
  fi
  for id in "${!run_state[@]}"; do
    [[ ${run_state[$id]} == finished && $id =~ $RUN_ID_RE && $id != "$run_id" ]] || continue
    [[ -d $work_root/$id && ! -L $work_root/$id && -f $runs_root/$id/${RESULT_FILE} ]] || continue
    if rm -rf -- "${work_root:?}/$id"; then removed=$((removed + 1)); else log "work root: could not remove $work_root/$id"; fi
  done
  log "work root: removed $removed work dirs of finished runs from $work_root"
}

sweep_and_prune() {
  local dir id cluster_ok=true ended=0
  if [[ ! -r /proc/self/cmdline ]]; then
    log "sweep: /proc is not readable, so no run can be proven dead; skipping the sweep and retention"
    return 0
  fi
  for dir in "$runs_root"/*/; do
    dir=${dir%/}
    id=${dir##*/}
    [[ $id =~ $RUN_ID_RE && $id != "$run_id" && ! -L $dir ]] || continue
    classify_run "$id" "$dir"
  done
  read_finished_results
  for id in "${!run_state[@]}"; do [[ ${run_state[$id]} == live ]] || ended=$((ended + 1)); done
  log "sweep: ${#run_state[@]} other runs in $runs_root, ${#dead_runs[@]} lost"
  # Only an ended run can have left something in the cluster.
  if ((ended > 0)); then sweep_cluster || cluster_ok=false; fi
  for id in "${dead_runs[@]}"; do write_lost_result "$id"; done
  clean_work_root
  if $cluster_ok; then
    prune_runs
  else
    log "retention: skipped (the cluster could not be swept)"
  fi
}

# >>> generated from src/runner/jq/duplicate-key.jq (npm run build) >>>
# shellcheck disable=SC2016
readonly JQ_DUPLICATE_KEY='# The first key deploy.json repeats in one object, at any depth: `duplicate key "<k>" at <path>` (jq -r), nothing
# when none does (docs/runner.md#hostile-input). Input: jq -n --stream (the raw events, before a parser keeps one of
# the two values).
def where: if length == 0 then "." else map(if type == "number" then "[\(.)]" elif test("^[A-Za-z_][A-Za-z0-9_]*$") then ".\(.)" else "[\(tojson)]" end) | join("") end;
reduce inputs as $e ({s: {}, dup: null};
  if .dup != null then . else
    $e[0] as $p | ($p | length) as $n |
    reduce range(0; if ($e | length) == 2 then $n else $n - 1 end) as $i (.;
      if .dup != null or ($p[$i] | type) != "string" then . else
        ($p[0:$i] | tojson) as $c | $p[$i] as $k |
        if .s[$c].cur == $k then .
        elif .s[$c].keys[$k] == true then .dup = "duplicate key \($k[0:100] | tojson) at \($p[0:$i] | where)"
        else .s[$c].keys[$k] = true | .s[$c].cur = $k end
      end)
    | if ($e | length) == 2 then (if $n > 0 then .s[$p[0:$n - 1] | tojson].cur = null else . end)
      else $p[0:$n - 1] as $q | del(.s[$q | tojson]) | (if $n > 1 then .s[$q[0:-1] | tojson].cur = null else . end) end
  end)
| .dup // empty'
# <<< generated <<<
# "duplicate key "<k>" at <path>" for the first key deploy.json repeats in one object, at any depth; nothing when
# none does (or jq cannot read it: the parse below says why). jq --stream sees the raw input, before a parser keeps
# one of the two values: a duplicate could hide what `unidesk-ci validate` checked (docs/runner.md).
manifest_duplicate_key() {
  jq -n --stream -r "$JQ_DUPLICATE_KEY" "$manifest_file" 2>/dev/null
}

# ---------------------------------------------------------------- checks

# The tools every run needs; a missing one ends the run with error.
check_tools() {
  local tool
  local -a missing_tools=()
  for tool in bash git kubectl jq; do
    command -v "$tool" >/dev/null 2>&1 || missing_tools+=("$tool")
  done
  if ((${#missing_tools[@]} > 0)); then
    finish error "required tool(s) not found on PATH: ${missing_tools[*]}"
  fi
}

# >>> generated from src/runner/jq/manifest-rows.jq (npm run build) >>>
# shellcheck disable=SC2016
readonly JQ_MANIFEST_ROWS='# deploy.json: checks that need jq, and the services (docs/runner.md#contract): `problem<TAB><text>` or
# `service<TAB><index><TAB><id><TAB><repo><TAB><commitId>` lines (jq -r); the runner checks the values in bash.
# Input: deploy.json. Args: --argjson maxDepth <MANIFEST_MAX_DEPTH> --argjson maxServices <SERVICES_MAX>.
def depth: if type == "object" or type == "array" then 1 + ([.[] | depth] | max // 0) else 0 end;
def text: if type == "string" then . else "" end;
if type != "object" then "problem\tdeploy.json must be a JSON object"
elif depth > $maxDepth then "problem\tdeploy.json nests \(depth) levels deep; at most \($maxDepth) are accepted"
elif .schemaVersion != 2 then "problem\tschemaVersion must be 2 (this runner reads deploy.json schema version 2)"
elif (.environments | type) != "object" or (.environments.dev | type) != "object" then "problem\tenvironments.dev is missing"
elif (.environments.dev.services | type) != "array" then "problem\tenvironments.dev.services must be an array of { id, repo, commitId }"
elif (.environments.dev.services | length) > $maxServices then
  "problem\tenvironments.dev.services has \(.environments.dev.services | length) entries; at most \($maxServices) are accepted"
else .environments.dev.services | to_entries[] | .key as $i | .value |
  if type != "object" then "problem\tenvironments.dev.services[\($i)] must be an object { id, repo, commitId }"
  else ["service", $i, (.id | text), (.repo | text), (.commitId | text)] | @tsv end
end'
# <<< generated <<<
# Reads deploy.json: only what the runner uses (environments.dev.services) and the bounds `unidesk-ci validate`
# enforces; a problem ends the run with error before any cluster write.
check_manifest() {
  local manifest_bytes manifest_duplicate manifest_rows row field problems kind="" index="" id="" repo="" commit=""
  local -a manifest_problems=() service_ids=()
  local -A service_index=()
  log "reading $manifest_file"
  manifest_bytes=$(wc -c <"$manifest_file")
  if ((manifest_bytes > MANIFEST_MAX_BYTES)); then
    finish error "deploy.json is $manifest_bytes bytes; at most $MANIFEST_MAX_BYTES are accepted"
  fi
  manifest_duplicate=$(manifest_duplicate_key)
  if [[ -n $manifest_duplicate ]]; then
    finish error "deploy.json is invalid: $manifest_duplicate (each key at most once per object)"
  fi
  if ! manifest_rows=$(jq -r --argjson maxDepth "$MANIFEST_MAX_DEPTH" --argjson maxServices "$SERVICES_MAX" "$JQ_MANIFEST_ROWS" "$manifest_file" 2>"$kubectl_err"); then
    if grep -q 'depth limit' "$kubectl_err"; then
      finish error "deploy.json nests deeper than jq can parse; at most $MANIFEST_MAX_DEPTH levels are accepted"
    fi
    finish error "deploy.json is not valid JSON: $(tr '\n' ' ' <"$kubectl_err")"
  fi
  while IFS= read -r row; do
    [[ -n $row ]] || continue
    read_tsv "$row" kind index id repo commit
    if [[ $kind == problem ]]; then
      manifest_problems+=("$index")
      continue
    fi
    field="environments.dev.services[$index]"
    [[ $id =~ $SERVICE_ID_RE ]] || manifest_problems+=("$field.id must be lowercase letters, digits and '-' (at most 40), e.g. backend-core")
    [[ $repo =~ $REPO_RE ]] || manifest_problems+=("$field.repo must be an https:// git URL without credentials, spaces or shell characters")
    [[ $commit =~ $SHA_RE ]] || manifest_problems+=("$field.commitId must be a full 40-character commit SHA")
    if [[ -n $id && -n ${service_index[$id]+set} ]]; then
      manifest_problems+=("$field.id duplicates environments.dev.services[${service_index[$id]}].id '$id'; ids must be unique")
    fi
    if [[ -n $id && -z ${service_index[$id]+set} ]]; then
      service_index[$id]=$index
      service_ids+=("$id")
    fi
  done <<<"$manifest_rows"
  if ((${#manifest_problems[@]} > 0)); then
    problems=$(printf '%s; ' "${manifest_problems[@]:0:10}")
    problems=${problems%; }
    ((${#manifest_problems[@]} > 10)) && problems+=" (and $((${#manifest_problems[@]} - 10)) more)"
    finish error "deploy.json is invalid: $problems"
  fi
  log "dev services (${#service_ids[@]}): ${service_ids[*]}"
}

# ---------------------------------------------------------------- cluster

# The cluster answers and the run id is unused: nothing is created before this.
check_cluster() {
  local existing
  log "checking the cluster: namespace $CI_NAMESPACE"
  if ! kc get namespace "$CI_NAMESPACE" -o name; then
    finish error "cannot use the cluster (KUBECONFIG=$KUBECONFIG): $(kc_error)"
  fi
  if ! existing=$(kc -n "$CI_NAMESPACE" get "$PIPELINERUNS" "$pipeline_run" -o name --ignore-not-found); then
    finish error "cannot read PipelineRuns in $CI_NAMESPACE: $(kc_error)"
  fi
  if [[ -n $existing ]]; then
    finish error "PipelineRun $CI_NAMESPACE/$pipeline_run already exists: run id $run_id was already used; nothing was created"
  fi
}

# The temporary namespace and its RoleBinding, labelled as this run's (docs/runner.md#what-it-does).
create_namespace() {
  local err
  # Labels and annotations shared by everything the run creates (a file, like every object below).
  jq -n --arg by "$MANAGED_BY" --arg run "$run_id" --arg sha "$manifest_commit" --arg inst "$instance" \
    --arg repo "$repo_url" --arg ref "$desired_ref" --arg keep "$keep_namespace" \
    '{labels: {"app.kubernetes.io/managed-by": $by, "unidesk.ci/run-id": $run, "unidesk.ci/manifest-commit": $sha},
      annotations: {"unidesk.ci/runner-instance": $inst, "unidesk.ci/repo-url": $repo, "unidesk.ci/desired-ref": $ref,
        "unidesk.ci/keep-namespace": $keep}}' >"$work_tmp/meta.json" || finish error "jq could not build the object labels"

  assert_own_namespace "$temp_namespace" || finish error "refused to create namespace $temp_namespace"
  log "creating temporary namespace $temp_namespace"
  jq -n --arg name "$temp_namespace" --slurpfile meta "$work_tmp/meta.json" \
    '{apiVersion: "v1", kind: "Namespace", metadata: {name: $name, labels: $meta[0].labels, annotations: $meta[0].annotations}}' \
    >"$work_tmp/namespace-object.json" || finish error "jq could not build the namespace object"
  namespace_attempted=true
  phase_begin namespace
  if ! kc create -f "$work_tmp/namespace-object.json" -o name; then
    err=$(kc_error)
    if [[ $err == *AlreadyExists* || $err == *"already exists"* ]]; then
      namespace_attempted=false
      finish error "namespace $temp_namespace already exists and is not this run's; it was left untouched"
    fi
    finish error "cannot create namespace $temp_namespace: $err"
  fi
  namespace_created=true

  log "granting $CI_NAMESPACE/$SERVICE_ACCOUNT edit rights in $temp_namespace"
  jq -n --arg ns "$temp_namespace" --arg sa "$SERVICE_ACCOUNT" --arg ci "$CI_NAMESPACE" --slurpfile meta "$work_tmp/meta.json" \
    '{apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding",
      metadata: {name: $sa, namespace: $ns, labels: $meta[0].labels},
      roleRef: {apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit"},
      subjects: [{kind: "ServiceAccount", name: $sa, namespace: $ci}]}' >"$work_tmp/rolebinding.json" ||
    finish error "jq could not build the RoleBinding"
  if ! kc create -f "$work_tmp/rolebinding.json" -o name; then
    finish error "cannot create the RoleBinding in $temp_namespace: $(kc_error)"
  fi
  phase_done namespace
}

# >>> generated from src/runner/jq/pipelinerun-object.jq (npm run build) >>>
# shellcheck disable=SC2016
readonly JQ_PIPELINERUN_OBJECT='# The PipelineRun unidesk-ci/e2e-<runId> (docs/runner.md#what-it-does), built from deploy.json itself (jq -c).
# Input: deploy.json. Args: --arg name, ns, pipeline, sa, run, sha, tmpns, keep, timeout; --slurpfile meta (labels,
# annotations).
[.environments.dev.services[] | {id, repo, commitId}] as $services |
{apiVersion: "tekton.dev/v1", kind: "PipelineRun",
 metadata: {name: $name, namespace: $ns, labels: $meta[0].labels, annotations: $meta[0].annotations},
 spec: {
   pipelineRef: {name: $pipeline},
   params: ([
     {name: "run-id", value: $run},
     {name: "manifest-commit", value: $sha},
     {name: "temporary-namespace", value: $tmpns},
     {name: "keep-namespace", value: $keep},
     {name: "dev-services", value: ($services | tojson)}
   ] + [$services[] | {name: ("service-" + .id + "-commit"), value: .commitId}]),
   timeouts: {pipeline: $timeout},
   taskRunTemplate: {serviceAccountName: $sa}
 }}'
# <<< generated <<<
# The PipelineRun unidesk-ci/e2e-<runId>, built from deploy.json itself; then pipelinerun.txt.
create_pipeline_run() {
  local err pipeline_timeout
  pipeline_timeout="${timeout_ms}ms"
  # Built from the manifest file itself: service data never passes through argv or a shell string.
  jq -c \
    --arg name "$pipeline_run" --arg ns "$CI_NAMESPACE" --arg pipeline "$PIPELINE_NAME" --arg sa "$SERVICE_ACCOUNT" \
    --arg run "$run_id" --arg sha "$manifest_commit" --arg tmpns "$temp_namespace" --arg keep "$keep_namespace" \
    --arg timeout "$pipeline_timeout" --slurpfile meta "$work_tmp/meta.json" \
    "$JQ_PIPELINERUN_OBJECT" "$manifest_file" >"$work_tmp/pipelinerun-object.json" || finish error "jq could not build the PipelineRun from deploy.json"
  log "creating PipelineRun $CI_NAMESPACE/$pipeline_run of pipeline/$PIPELINE_NAME (timeout $pipeline_timeout)"
  pipeline_run_attempted=true
  phase_begin pipelinerun
  if ! pipeline_run_uid=$(kc create -f "$work_tmp/pipelinerun-object.json" -o 'jsonpath={.metadata.uid}'); then
    err=$(kc_error)
    pipeline_run_attempted=false
    if [[ $err == *AlreadyExists* || $err == *"already exists"* ]]; then
      finish error "PipelineRun $CI_NAMESPACE/$pipeline_run already exists: run id $run_id was already used"
    fi
    finish error "cannot create PipelineRun $CI_NAMESPACE/$pipeline_run: $err"
  fi
  pipeline_run_created=true
  printf '%s\n' "$pipeline_run" >"$result_dir/${PIPELINERUN_FILE}"
  [[ $pipeline_run_uid =~ ^[0-9a-zA-Z-]{1,64}$ ]] || finish error "created PipelineRun $CI_NAMESPACE/$pipeline_run, but kubectl did not answer its uid: its status could not be told from another's"
  log "created PipelineRun $CI_NAMESPACE/$pipeline_run (uid $pipeline_run_uid)"
}

# ---------------------------------------------------------------- wait

# Polls the PipelineRun until it ends or the timeout runs out; every way out is finish (which exits).
wait_pipeline_run() {
  local deadline_ms failures last_reason remaining
  deadline_ms=$((start_ms + timeout_ms))
  failures=0
  last_reason=""
  while :; do
    if live_poll; then
      failures=0
      if [[ $cond_reason != "$last_reason" ]]; then
        log "PipelineRun $cond_status/$cond_reason: $cond_message"
        last_reason=$cond_reason
      fi
      if [[ $cond_status == True ]]; then
        tekton_reason=$cond_reason
        finish succeeded "PipelineRun $pipeline_run succeeded: $cond_message"
      elif [[ $cond_status == False ]]; then
        tekton_reason=$cond_reason
        case $cond_reason in
          CouldntGetPipeline)
            finish error "pipeline/$PIPELINE_NAME is missing in namespace $CI_NAMESPACE (install scripts/ci/tekton/$PIPELINE_NAME.yaml): $cond_message" ;;
          PipelineRunTimeout)
            finish timeout "PipelineRun $pipeline_run timed out in Tekton: $cond_message" ;;
          Cancelled | PipelineRunCancelled | StoppedRunFinally | CancelledRunFinally)
            finish cancelled "PipelineRun $pipeline_run was cancelled outside the runner: $cond_message" ;;
          *)
            finish failed "PipelineRun $pipeline_run failed ($cond_reason): $cond_message" ;;
        esac
      fi
    else
      $pipeline_run_foreign && finish error "$poll_error"
      failures=$((failures + 1))
      log "could not read PipelineRun ($failures): $poll_error"
      if ((failures >= 5)); then
        finish error "lost the cluster while waiting for PipelineRun $pipeline_run: $poll_error"
      fi
    fi
    remaining=$((deadline_ms - $(ms_now)))
    if ((remaining <= 0)); then
      finish timeout "PipelineRun $pipeline_run did not finish within ${timeout_ms}ms; it was cancelled"
    fi
    nap_ms "$((remaining < poll_ms ? remaining : poll_ms))"
  done
}

# ---------------------------------------------------------------- main

main() {
  parse_args "$@"
  open_run
  trap live_stop_streams EXIT
  trap 'on_signal SIGTERM 143' TERM
  trap 'on_signal SIGINT 130' INT
  # shellcheck disable=SC2086 # "SIGTERM 143": the signal and its exit code.
  [[ -z $early_signal ]] || on_signal $early_signal
  init_roots
  check_tools
  sweep_and_prune
  check_manifest
  check_cluster
  create_namespace
  create_pipeline_run
  wait_pipeline_run
}

# Sourced (tests: docs/runner.md#testing-in-parts), the runner only defines; run, it runs.
if [[ ${BASH_SOURCE[0]} == "$0" ]]; then main "$@"; fi
