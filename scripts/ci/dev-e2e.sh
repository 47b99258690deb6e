#!/usr/bin/env bash
# UniDesk dev CI runner (Git-controlled; contract in docs/runner.md).
#
# Runs on the k3s host: parses the host-fetched deploy.json, creates a labelled temporary
# namespace, starts the Tekton PipelineRun unidesk-ci/e2e-<runId> of
# pipeline/unidesk-dev-namespace-e2e, waits for it, saves the PipelineRun, its TaskRuns and
# every pod log into the result directory, deletes the temporary namespace (unless
# --keep-namespace) and writes result.json last, atomically.
#
# Environment (all optional):
#   KUBECONFIG                      default /etc/rancher/k3s/k3s.yaml
#   UNIDESK_CI_RUNNER_POLL_MS       PipelineRun poll interval, default 5000 (50..600000)
#   UNIDESK_CI_RUNNER_CANCEL_WAIT_MS how long to wait for Tekton to confirm a cancel, default 30000
#   UNIDESK_CI_KUBECTL_TIMEOUT      kubectl --request-timeout per call, default 30s
#
# Exit codes: 0 succeeded, 1 failed, 2 bad arguments (nothing done, no result.json),
# 3 error, 4 timeout, 130 cancelled by SIGINT, 143 cancelled by SIGTERM.

# Not `set -e`: every failure must still reach finish() and end in a result.json.
set -uo pipefail

readonly PIPELINE_NAME="unidesk-dev-namespace-e2e"
readonly CI_NAMESPACE="unidesk-ci"
readonly SERVICE_ACCOUNT="unidesk-ci-e2e"
readonly MANAGED_BY="unidesk-ci"
readonly PROTECTED_NAMESPACES=" unidesk unidesk-dev default kube-system kube-public kube-node-lease unidesk-ci "
readonly RUN_ID_RE='^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'
readonly SHA_RE='^[0-9a-f]{40}$'
readonly REPO_RE='^https://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~-]+)+/?$'
readonly TIMEOUT_MS_MIN=60000
readonly TIMEOUT_MS_MAX=21600000

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

declare -A arg=()
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

if ((${#usage_errors[@]} > 0)); then
  for e in "${usage_errors[@]}"; do printf 'dev-e2e.sh: error: %s\n' "$e" >&2; done
  printf "run 'dev-e2e.sh --help' for usage; nothing was started\n" >&2
  exit 2
fi

export KUBECONFIG="${KUBECONFIG:-/etc/rancher/k3s/k3s.yaml}"
readonly temp_namespace="unidesk-ci-$run_id"
readonly pipeline_run="e2e-$run_id"
result_dir=${result_dir%/}

# ---------------------------------------------------------------- result directory and log

if ! mkdir -p "$result_dir/pods"; then
  printf 'dev-e2e.sh: error: cannot create result directory %s\n' "$result_dir" >&2
  exit 3
fi
if [[ -e $result_dir/result.json ]]; then
  printf 'dev-e2e.sh: error: %s/result.json already exists: run %s has finished; use a new run id\n' "$result_dir" "$run_id" >&2
  exit 3
fi
# noclobber makes the pid file the lock: a second runner for the same result dir stops here.
if ! (set -o noclobber && printf '%s\n' "$$" >"$result_dir/runner.pid") 2>/dev/null; then
  pid_owner=$(head -c 20 "$result_dir/runner.pid" 2>/dev/null | tr -dc '0-9')
  printf 'dev-e2e.sh: error: %s/runner.pid exists: another runner (pid %s) already owns run %s\n' \
    "$result_dir" "$pid_owner" "$run_id" >&2
  exit 3
fi

exec 3>&2
exec >>"$result_dir/runner.log" 2>&1

ms_now() { date -u +%s%3N; }
iso_now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }
log() { printf '%s %s\n' "$(iso_now)" "$*"; }

started_at=$(iso_now)
start_ms=$(ms_now)
instance="$(od -An -N6 -tx1 /dev/urandom 2>/dev/null | tr -d ' \n')"
instance=${instance:-$$$RANDOM}
work_tmp=$(mktemp -d "${TMPDIR:-/tmp}/unidesk-ci-runner.XXXXXX") || work_tmp=$result_dir
kubectl_err="$work_tmp/kubectl.err"

pipeline_run_created=false
pipeline_run_attempted=false
namespace_attempted=false
namespace_created=false
namespace_deleted=false
tekton_reason=""
nap_pid=""

log "runner started: pid $$, run $run_id, manifest commit $manifest_commit"
log "repo $repo_url, desired ref $desired_ref, environment $environment, timeout ${timeout_ms}ms, keep namespace $keep_namespace"
log "KUBECONFIG=$KUBECONFIG, poll ${poll_ms}ms, kubectl request timeout $kubectl_timeout"

# ---------------------------------------------------------------- helpers

# A JSON string literal, without jq (result.json must be writable even when jq is missing).
json_str() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  s=$(printf '%s' "$s" | LC_ALL=C tr -d '\000-\010\013\014\016-\037')
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

# kubectl with a request timeout; stderr is kept for error reasons and copied to the log.
kc() {
  local rc=0
  kubectl --request-timeout="$kubectl_timeout" "$@" 2>"$kubectl_err" || rc=$?
  if [[ -s $kubectl_err ]]; then sed 's/^/  kubectl: /' "$kubectl_err" >&2; fi
  return "$rc"
}
kc_error() {
  local msg
  msg=$(grep -v '^[[:space:]]*$' "$kubectl_err" 2>/dev/null | tail -n 3 | tr '\n' ' ')
  printf '%s' "${msg% }"
}

# The runner writes only to unidesk-ci and to its own temporary namespace.
assert_own_namespace() {
  if [[ $PROTECTED_NAMESPACES == *" $1 "* || $1 != "$temp_namespace" ]]; then
    log "refusing to write to namespace $1: only $temp_namespace is this run's"
    return 1
  fi
}

# ---------------------------------------------------------------- the end of every path

write_result() {
  local status=$1 reason=$2 ok=false finished_at end_ms tmp
  [[ $status == succeeded ]] && ok=true
  finished_at=$(iso_now)
  end_ms=$(ms_now)
  local pr_field="" ns_field=""
  $pipeline_run_created && pr_field=$pipeline_run
  $namespace_created && ns_field=$temp_namespace
  tmp="$result_dir/.result.json.$$"
  {
    printf '{\n'
    printf '  "ok": %s,\n' "$ok"
    printf '  "status": %s,\n' "$(json_str "$status")"
    printf '  "runId": %s,\n' "$(json_str "$run_id")"
    printf '  "manifestCommit": %s,\n' "$(json_str "$manifest_commit")"
    printf '  "pipelineRun": %s,\n' "$(json_or_null "$pr_field")"
    printf '  "temporaryNamespace": %s,\n' "$(json_or_null "$ns_field")"
    printf '  "keepNamespace": %s,\n' "$keep_namespace"
    printf '  "namespaceDeleted": %s,\n' "$namespace_deleted"
    printf '  "startedAt": %s,\n' "$(json_str "$started_at")"
    printf '  "finishedAt": %s,\n' "$(json_str "$finished_at")"
    printf '  "durationMs": %d,\n' "$((end_ms - start_ms))"
    printf '  "reason": %s,\n' "$(json_str "$reason")"
    printf '  "tektonReason": %s,\n' "$(json_or_null "$tekton_reason")"
    printf '  "writer": "runner"\n'
    printf '}\n'
  } >"$tmp" && mv -f "$tmp" "$result_dir/result.json"
}

# Reads the PipelineRun's Succeeded condition into cond_status/cond_reason/cond_message.
read_condition() {
  local json
  json=$(kc -n "$CI_NAMESPACE" get pipelineruns.tekton.dev "$pipeline_run" -o json) || return 1
  cond_status=$(jq -r '[.status.conditions[]? | select(.type == "Succeeded")][0].status // "Unknown"' <<<"$json") || return 1
  cond_reason=$(jq -r '[.status.conditions[]? | select(.type == "Succeeded")][0].reason // ""' <<<"$json") || return 1
  cond_message=$(jq -r '[.status.conditions[]? | select(.type == "Succeeded")][0].message // ""' <<<"$json") || return 1
}

cancel_pipeline_run() {
  log "cancelling PipelineRun $CI_NAMESPACE/$pipeline_run"
  if ! kc -n "$CI_NAMESPACE" patch pipelineruns.tekton.dev "$pipeline_run" --type merge -p '{"spec":{"status":"Cancelled"}}' -o name; then
    log "could not cancel PipelineRun: $(kc_error)"
    return 0
  fi
  local deadline=$(($(ms_now) + cancel_wait_ms))
  while (($(ms_now) < deadline)); do
    if read_condition && [[ $cond_status != Unknown ]]; then
      tekton_reason=$cond_reason
      log "PipelineRun stopped: $cond_reason"
      return 0
    fi
    nap_ms "$((poll_ms < 1000 ? poll_ms : 1000))"
  done
  log "Tekton did not confirm the cancel within ${cancel_wait_ms}ms; collecting anyway"
}

collect_pod_logs() {
  local ns=$1 selector=$2 pods pod container file
  local -a sel=()
  [[ -n $selector ]] && sel=(-l "$selector")
  if ! pods=$(kc -n "$ns" get pods "${sel[@]}" -o json); then
    log "could not list pods in $ns: $(kc_error)"
    return 0
  fi
  while read -r pod container; do
    [[ -n $pod && -n $container ]] || continue
    file="$result_dir/pods/${pod}_${container}.log"
    if ! kc -n "$ns" logs "$pod" -c "$container" >"$file"; then
      printf '[unidesk-ci: no log for %s/%s: %s]\n' "$pod" "$container" "$(kc_error)" >>"$file"
    fi
    log "saved pods/${pod}_${container}.log ($(wc -c <"$file") bytes)"
  done < <(jq -r '.items[] | .metadata.name as $p | ((.spec.initContainers // []) + (.spec.containers // []))[] | "\($p) \(.name)"' <<<"$pods")
}

collect_artifacts() {
  log "collecting PipelineRun, TaskRuns and pod logs"
  kc -n "$CI_NAMESPACE" get pipelineruns.tekton.dev "$pipeline_run" -o json >"$result_dir/pipelinerun.json" ||
    log "could not save pipelinerun.json: $(kc_error)"
  kc -n "$CI_NAMESPACE" get taskruns.tekton.dev -l "tekton.dev/pipelineRun=$pipeline_run" -o json >"$result_dir/taskruns.json" ||
    log "could not save taskruns.json: $(kc_error)"
  collect_pod_logs "$CI_NAMESPACE" "tekton.dev/pipelineRun=$pipeline_run"
  if $namespace_attempted; then collect_pod_logs "$temp_namespace" ""; fi
}

# Deletes the temporary namespace only when it carries this very invocation's labels.
delete_namespace() {
  local json owned
  assert_own_namespace "$temp_namespace" || return 0
  if ! json=$(kc get namespace "$temp_namespace" -o json); then
    log "temporary namespace $temp_namespace not readable, not deleting it: $(kc_error)"
    return 0
  fi
  owned=$(jq -r --arg run "$run_id" --arg inst "$instance" --arg by "$MANAGED_BY" \
    '(.metadata.labels["app.kubernetes.io/managed-by"] == $by and .metadata.labels["unidesk.ci/run-id"] == $run
      and .metadata.annotations["unidesk.ci/runner-instance"] == $inst)' <<<"$json")
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
  if $pipeline_run_attempted && [[ $status == timeout || $status == cancelled ]]; then cancel_pipeline_run; fi
  if $pipeline_run_attempted; then collect_artifacts; fi
  if $namespace_attempted; then
    if $keep_namespace; then log "keeping temporary namespace $temp_namespace (--keep-namespace)"; else delete_namespace; fi
  fi
  log "run $status: $reason"
  write_result "$status" "$reason"
  log "wrote result.json"
  [[ $work_tmp != "$result_dir" ]] && rm -rf "$work_tmp"
  printf 'dev-e2e.sh: run %s %s: %s (see %s)\n' "$run_id" "$status" "$reason" "$result_dir" >&3
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
trap 'on_signal SIGTERM 143' TERM
trap 'on_signal SIGINT 130' INT

# ---------------------------------------------------------------- checks

missing_tools=()
for tool in bash git kubectl jq; do
  command -v "$tool" >/dev/null 2>&1 || missing_tools+=("$tool")
done
if ((${#missing_tools[@]} > 0)); then
  finish error "required tool(s) not found on PATH: ${missing_tools[*]}"
fi

log "reading $manifest_file"
manifest_problems=$(jq -r '
  def svc_checks:
    to_entries[] | .key as $i | .value |
    if type != "object" then "environments.dev.services[\($i)] must be an object { id, repo, commitId }"
    else
      (if (.id | type) == "string" and (.id | test("^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$")) then empty
       else "environments.dev.services[\($i)].id must be lowercase letters, digits and - (at most 40)" end),
      (if (.commitId | type) == "string" and (.commitId | test("^[0-9a-f]{40}$")) then empty
       else "environments.dev.services[\($i)].commitId must be a full 40-character commit SHA" end)
    end;
  if type != "object" then "deploy.json must be a JSON object"
  elif .schemaVersion != 2 then "schemaVersion must be 2"
  elif (.environments | type) != "object" or (.environments.dev | type) != "object" then "environments.dev is missing"
  elif (.environments.dev.ci | type) != "object" then "environments.dev.ci is missing"
  elif (.environments.dev.services | type) != "array" then "environments.dev.services must be an array"
  else
    (.environments.dev.services | svc_checks),
    (if ([.environments.dev.services[] | objects | .id] | length) != ([.environments.dev.services[] | objects | .id] | unique | length)
     then "environments.dev.services ids must be unique" else empty end)
  end' "$manifest_file" 2>"$kubectl_err")
jq_rc=$?
if ((jq_rc != 0)); then
  finish error "deploy.json is not valid JSON: $(tr '\n' ' ' <"$kubectl_err")"
fi
if [[ -n $manifest_problems ]]; then
  finish error "deploy.json is invalid: $(printf '%s' "$manifest_problems" | paste -sd ';' - | sed 's/;/; /g')"
fi
services_json=$(jq -c '[.environments.dev.services[] | {id, repo, commitId}]' "$manifest_file")
service_params=$(jq -c '[.environments.dev.services[] | {name: ("service-" + .id + "-commit"), value: .commitId}]' "$manifest_file")
log "dev services: $services_json"

# ---------------------------------------------------------------- cluster

log "checking the cluster: namespace $CI_NAMESPACE"
if ! kc get namespace "$CI_NAMESPACE" -o name; then
  finish error "cannot use the cluster (KUBECONFIG=$KUBECONFIG): $(kc_error)"
fi
if ! existing=$(kc -n "$CI_NAMESPACE" get pipelineruns.tekton.dev "$pipeline_run" -o name --ignore-not-found); then
  finish error "cannot read PipelineRuns in $CI_NAMESPACE: $(kc_error)"
fi
if [[ -n $existing ]]; then
  finish error "PipelineRun $CI_NAMESPACE/$pipeline_run already exists: run id $run_id was already used; nothing was created"
fi

labels_json=$(jq -nc --arg by "$MANAGED_BY" --arg run "$run_id" --arg sha "$manifest_commit" \
  '{"app.kubernetes.io/managed-by": $by, "unidesk.ci/run-id": $run, "unidesk.ci/manifest-commit": $sha}')
annotations_json=$(jq -nc --arg inst "$instance" --arg repo "$repo_url" --arg ref "$desired_ref" \
  '{"unidesk.ci/runner-instance": $inst, "unidesk.ci/repo-url": $repo, "unidesk.ci/desired-ref": $ref}')

assert_own_namespace "$temp_namespace" || finish error "refused to create namespace $temp_namespace"
log "creating temporary namespace $temp_namespace"
namespace_json=$(jq -nc --arg name "$temp_namespace" --argjson labels "$labels_json" --argjson ann "$annotations_json" \
  '{apiVersion: "v1", kind: "Namespace", metadata: {name: $name, labels: $labels, annotations: $ann}}')
namespace_attempted=true
if ! kc create -f - -o name <<<"$namespace_json"; then
  err=$(kc_error)
  if [[ $err == *AlreadyExists* || $err == *"already exists"* ]]; then
    namespace_attempted=false
    finish error "namespace $temp_namespace already exists and is not this run's; it was left untouched"
  fi
  finish error "cannot create namespace $temp_namespace: $err"
fi
namespace_created=true

log "granting $CI_NAMESPACE/$SERVICE_ACCOUNT edit rights in $temp_namespace"
binding_json=$(jq -nc --arg ns "$temp_namespace" --arg sa "$SERVICE_ACCOUNT" --arg ci "$CI_NAMESPACE" --argjson labels "$labels_json" \
  '{apiVersion: "rbac.authorization.k8s.io/v1", kind: "RoleBinding",
    metadata: {name: $sa, namespace: $ns, labels: $labels},
    roleRef: {apiGroup: "rbac.authorization.k8s.io", kind: "ClusterRole", name: "edit"},
    subjects: [{kind: "ServiceAccount", name: $sa, namespace: $ci}]}')
if ! kc create -f - -o name <<<"$binding_json"; then
  finish error "cannot create the RoleBinding in $temp_namespace: $(kc_error)"
fi

pipeline_timeout="${timeout_ms}ms"
pipelinerun_json=$(jq -nc \
  --arg name "$pipeline_run" --arg ns "$CI_NAMESPACE" --arg pipeline "$PIPELINE_NAME" --arg sa "$SERVICE_ACCOUNT" \
  --arg run "$run_id" --arg sha "$manifest_commit" --arg tmpns "$temp_namespace" --arg keep "$keep_namespace" \
  --arg services "$services_json" --argjson serviceParams "$service_params" --arg timeout "$pipeline_timeout" \
  --argjson labels "$labels_json" --argjson ann "$annotations_json" \
  '{apiVersion: "tekton.dev/v1", kind: "PipelineRun",
    metadata: {name: $name, namespace: $ns, labels: $labels, annotations: $ann},
    spec: {
      pipelineRef: {name: $pipeline},
      params: ([
        {name: "run-id", value: $run},
        {name: "manifest-commit", value: $sha},
        {name: "temporary-namespace", value: $tmpns},
        {name: "keep-namespace", value: $keep},
        {name: "dev-services", value: $services}
      ] + $serviceParams),
      timeouts: {pipeline: $timeout},
      taskRunTemplate: {serviceAccountName: $sa}
    }}')
log "creating PipelineRun $CI_NAMESPACE/$pipeline_run of pipeline/$PIPELINE_NAME (timeout $pipeline_timeout)"
pipeline_run_attempted=true
if ! kc create -f - -o name <<<"$pipelinerun_json"; then
  err=$(kc_error)
  pipeline_run_attempted=false
  if [[ $err == *AlreadyExists* || $err == *"already exists"* ]]; then
    finish error "PipelineRun $CI_NAMESPACE/$pipeline_run already exists: run id $run_id was already used"
  fi
  finish error "cannot create PipelineRun $CI_NAMESPACE/$pipeline_run: $err"
fi
pipeline_run_created=true
printf '%s\n' "$pipeline_run" >"$result_dir/pipelinerun.txt"

# ---------------------------------------------------------------- wait

deadline_ms=$((start_ms + timeout_ms))
failures=0
last_reason=""
while :; do
  if read_condition; then
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
    failures=$((failures + 1))
    log "could not read PipelineRun ($failures): $(kc_error)"
    if ((failures >= 5)); then
      finish error "lost the cluster while waiting for PipelineRun $pipeline_run: $(kc_error)"
    fi
  fi
  remaining=$((deadline_ms - $(ms_now)))
  if ((remaining <= 0)); then
    finish timeout "PipelineRun $pipeline_run did not finish within ${timeout_ms}ms; it was cancelled"
  fi
  nap_ms "$((remaining < poll_ms ? remaining : poll_ms))"
done
