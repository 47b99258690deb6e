#!/usr/bin/env bash
# shellcheck disable=SC2317,SC2329,SC2015 # most functions run in the detached bash (declare -f), unseen here
# unidesk-ci launcher: the fixed template of docs/launcher.md, sent unchanged by every run.
# Only the ten quoted values below are substituted (validated and shell-quoted by render.ts).
# It holds no token and no runner body: the runner comes from git at the manifest commit.
set -uo pipefail
umask 022

UCI_REPO=@@REPO@@
UCI_COMMIT=@@MANIFEST_COMMIT@@
UCI_SCRIPT_PATH=@@SCRIPT_PATH@@
UCI_RUN_ID=@@RUN_ID@@
UCI_ENVIRONMENT=@@ENVIRONMENT@@
UCI_TIMEOUT_MS=@@TIMEOUT_MS@@
UCI_KEEP_NAMESPACE=@@KEEP_NAMESPACE@@
UCI_WORK_ROOT=@@WORK_ROOT@@
UCI_RUNS_ROOT=@@RUNS_ROOT@@
UCI_EGRESS_PROXY=@@EGRESS_PROXY@@
# @@RULES HTTPS_REPO FULL_SHA SCRIPT_PATH RUN_ID TIMEOUT_MS_MIN TIMEOUT_MS_MAX ABSOLUTE_PATH ABSOLUTE_PATH_MAX PROXY_URL@@

UCI_WORK_DIR="$UCI_WORK_ROOT/$UCI_RUN_ID"
UCI_RESULT_DIR="$UCI_RUNS_ROOT/$UCI_RUN_ID"
UCI_LOG="$UCI_RESULT_DIR/launcher.log"
UCI_RESULT="$UCI_RESULT_DIR/result.json"
# Watchdogs only guarantee that every run ends; the runner enforces the real timeout itself.
# After a TERM the runner gets UCI_RUNNER_KILL_AFTER_S to cancel its PipelineRun and clean up.
UCI_FETCH_TIMEOUT_S=300
UCI_FETCH_KILL_AFTER_S=10
UCI_RUNNER_GRACE_S=600
UCI_RUNNER_KILL_AFTER_S=120
UCI_PHASE=setup
UCI_CHILD_PID=

uci_now() { date -u +%Y-%m-%dT%H:%M:%S.%3NZ; }

uci_now_ms() { date +%s%3N; }

uci_log() { printf '%s %s\n' "$(uci_now)" "$*" >>"$UCI_LOG"; }

uci_json_string() {
  local s=$1
  s=${s//\\/\\\\}
  s=${s//\"/\\\"}
  s=${s//$'\n'/\\n}
  s=${s//$'\r'/\\r}
  s=${s//$'\t'/\\t}
  s=${s//[[:cntrl:]]/ }
  printf '"%s"' "$s"
}

# Writes a failed result.json unless one exists: tmp file, then an atomic no-clobber link,
# so a result the runner already wrote is never replaced.
uci_write_result() {
  local status=$1 reason=$2 tmp duration
  [[ -e $UCI_RESULT ]] && return 0
  duration=$(($(uci_now_ms) - UCI_START_MS))
  ((duration < 0)) && duration=0
  tmp="$UCI_RESULT_DIR/.result.json.launcher.$BASHPID"
  printf '{"ok":false,"status":%s,"runId":%s,"manifestCommit":%s,"pipelineRun":null,"temporaryNamespace":null,"startedAt":%s,"finishedAt":%s,"durationMs":%s,"reason":%s,"writer":"launcher"}\n' \
    "$(uci_json_string "$status")" "$(uci_json_string "$UCI_RUN_ID")" "$(uci_json_string "$UCI_COMMIT")" \
    "$(uci_json_string "$UCI_STARTED_AT")" "$(uci_json_string "$(uci_now)")" "$duration" \
    "$(uci_json_string "$reason")" >"$tmp" || return 1
  if ! ln -- "$tmp" "$UCI_RESULT" 2>/dev/null && [[ ! -e $UCI_RESULT ]]; then
    mv -f -- "$tmp" "$UCI_RESULT"
  fi
  rm -f -- "$tmp"
}

uci_fail() {
  uci_log "FAILED ($1): $2"
  uci_write_result "$1" "$2"
}

# The CLI validated these already, with the rules injected above (src/rules.ts); checking again is
# cheap and keeps a hand-edited launcher honest. Ranges are compared in the C locale, as bytes.
uci_validate() {
  local LC_ALL=C p
  [[ $UCI_REPO =~ $UCI_RE_HTTPS_REPO ]] && uci_port "${BASH_REMATCH[1]#:}" || { echo "unidesk-ci launcher: invalid repo" >&2; return 1; }
  [[ $UCI_COMMIT =~ $UCI_RE_FULL_SHA ]] || { echo "unidesk-ci launcher: invalid manifest commit" >&2; return 1; }
  [[ $UCI_SCRIPT_PATH =~ $UCI_RE_SCRIPT_PATH && $UCI_SCRIPT_PATH != *..* ]] || { echo "unidesk-ci launcher: invalid script path" >&2; return 1; }
  [[ $UCI_RUN_ID =~ $UCI_RE_RUN_ID ]] || { echo "unidesk-ci launcher: invalid run id" >&2; return 1; }
  [[ $UCI_ENVIRONMENT == dev ]] || { echo "unidesk-ci launcher: invalid environment" >&2; return 1; }
  [[ $UCI_TIMEOUT_MS =~ ^[1-9][0-9]{0,9}$ ]] && ((UCI_TIMEOUT_MS >= UCI_TIMEOUT_MS_MIN && UCI_TIMEOUT_MS <= UCI_TIMEOUT_MS_MAX)) || { echo "unidesk-ci launcher: invalid timeout" >&2; return 1; }
  [[ $UCI_KEEP_NAMESPACE == true || $UCI_KEEP_NAMESPACE == false ]] || { echo "unidesk-ci launcher: invalid keep-namespace" >&2; return 1; }
  for p in "$UCI_WORK_ROOT" "$UCI_RUNS_ROOT"; do
    [[ $p =~ $UCI_RE_ABSOLUTE_PATH && ${#p} -le UCI_ABSOLUTE_PATH_MAX && /$p/ != */../* && /$p/ != */./* ]] || { echo "unidesk-ci launcher: invalid workspace path" >&2; return 1; }
  done
  [[ $UCI_EGRESS_PROXY =~ $UCI_RE_PROXY_URL ]] && uci_port "${BASH_REMATCH[1]}" || { echo "unidesk-ci launcher: invalid egress proxy" >&2; return 1; }
}

# A port of 1-65535; empty is https' default. Base 10 forced: "08" is not octal.
uci_port() { ((10#${1:-443} >= 1 && 10#${1:-443} <= 65535)); }

# Runs a command under a watchdog in the background and waits for it, so a trapped signal
# interrupts the wait at once and can forward itself to the child.
uci_wait_child() {
  local seconds=$1 kill_after=$2 rc=0
  shift 2
  timeout --kill-after="$kill_after" "$seconds" "$@" </dev/null &
  UCI_CHILD_PID=$!
  wait "$UCI_CHILD_PID" || rc=$?
  UCI_CHILD_PID=
  return "$rc"
}

uci_on_signal() {
  trap - TERM INT
  uci_log "launcher received SIG$1 during $UCI_PHASE"
  if [[ -n $UCI_CHILD_PID ]]; then
    kill -TERM "$UCI_CHILD_PID" 2>/dev/null
    wait "$UCI_CHILD_PID" 2>/dev/null
  fi
  if [[ $UCI_PHASE == runner ]]; then
    uci_fail cancelled "launcher received SIG$1 while the runner ran, and the runner wrote no result.json"
  else
    uci_fail cancelled "launcher received SIG$1 before the runner started (during $UCI_PHASE)"
  fi
  exit 143
}

uci_on_exit() {
  [[ -e $UCI_RESULT ]] || uci_fail error "launcher exited unexpectedly during $UCI_PHASE"
}

# Everything after the detach: fetch through the egress proxy only, verify, extract, run.
uci_detached() {
  local repo_dir="$UCI_WORK_DIR/repo" rc=0 object_type fetched runner_timeout_s
  local -a git_cmd runner_args
  trap '' HUP
  trap 'uci_on_signal TERM' TERM
  trap 'uci_on_signal INT' INT
  trap uci_on_exit EXIT
  printf '%s\n' "$BASHPID" >"$UCI_RESULT_DIR/launcher.pid"
  uci_log "detached as pid $BASHPID"
  cd "$UCI_WORK_DIR" || { uci_fail error "cannot enter work dir $UCI_WORK_DIR"; return; }

  UCI_PHASE=fetch
  # The proxy is set for git only (the runner keeps its own environment); no_proxy is dropped
  # so nothing bypasses it, and there is no direct fallback.
  git_cmd=(env -u no_proxy -u NO_PROXY
    "http_proxy=$UCI_EGRESS_PROXY" "https_proxy=$UCI_EGRESS_PROXY"
    "HTTP_PROXY=$UCI_EGRESS_PROXY" "HTTPS_PROXY=$UCI_EGRESS_PROXY"
    "all_proxy=$UCI_EGRESS_PROXY" "ALL_PROXY=$UCI_EGRESS_PROXY"
    GIT_TERMINAL_PROMPT=0
    git -c "http.proxy=$UCI_EGRESS_PROXY" -c http.lowSpeedLimit=1 -c http.lowSpeedTime=60)
  if ! { git init -q "$repo_dir" &&
    git -C "$repo_dir" config http.proxy "$UCI_EGRESS_PROXY" &&
    git -C "$repo_dir" remote add origin "$UCI_REPO"; } >>"$UCI_LOG" 2>&1; then
    uci_fail error "git init of $repo_dir failed"
    return
  fi
  uci_log "fetching $UCI_COMMIT from $UCI_REPO through egress proxy $UCI_EGRESS_PROXY"
  uci_wait_child "$UCI_FETCH_TIMEOUT_S" "$UCI_FETCH_KILL_AFTER_S" "${git_cmd[@]}" -C "$repo_dir" fetch --no-tags --depth=1 origin "$UCI_COMMIT" >>"$UCI_LOG" 2>&1 || rc=$?
  if ((rc != 0)); then
    uci_fail error "git fetch of commit $UCI_COMMIT from $UCI_REPO through egress proxy $UCI_EGRESS_PROXY failed (exit $rc); no direct fallback"
    return
  fi

  UCI_PHASE=verify
  object_type=$(git -C "$repo_dir" cat-file -t "$UCI_COMMIT" 2>>"$UCI_LOG")
  fetched=$(git -C "$repo_dir" rev-parse --verify --quiet "$UCI_COMMIT^{commit}" 2>>"$UCI_LOG")
  if [[ $object_type != commit || $fetched != "$UCI_COMMIT" ]]; then
    uci_fail error "fetched object $UCI_COMMIT is not that commit (type '${object_type:-missing}', resolved '${fetched:-nothing}')"
    return
  fi
  uci_log "verified commit $UCI_COMMIT"

  UCI_PHASE=extract
  if [[ $(git -C "$repo_dir" cat-file -t "$UCI_COMMIT:$UCI_SCRIPT_PATH" 2>/dev/null) != blob ]]; then
    uci_fail error "scriptPath $UCI_SCRIPT_PATH does not exist at commit $UCI_COMMIT"
    return
  fi
  if [[ $(git -C "$repo_dir" cat-file -t "$UCI_COMMIT:deploy.json" 2>/dev/null) != blob ]]; then
    uci_fail error "deploy.json does not exist at commit $UCI_COMMIT"
    return
  fi
  if ! git -C "$repo_dir" show "$UCI_COMMIT:$UCI_SCRIPT_PATH" >"$UCI_WORK_DIR/runner.sh" 2>>"$UCI_LOG" ||
    ! git -C "$repo_dir" show "$UCI_COMMIT:deploy.json" >"$UCI_WORK_DIR/deploy.json" 2>>"$UCI_LOG"; then
    uci_fail error "git show of $UCI_SCRIPT_PATH or deploy.json at commit $UCI_COMMIT failed"
    return
  fi
  uci_log "extracted runner.sh from $UCI_SCRIPT_PATH and deploy.json"

  UCI_PHASE=runner
  runner_args=(--run-id "$UCI_RUN_ID" --repo-url "$UCI_REPO" --desired-ref master
    --manifest-commit "$UCI_COMMIT" --manifest-file "$UCI_WORK_DIR/deploy.json"
    --environment "$UCI_ENVIRONMENT" --result-dir "$UCI_RESULT_DIR" --timeout-ms "$UCI_TIMEOUT_MS")
  [[ $UCI_KEEP_NAMESPACE == true ]] && runner_args+=(--keep-namespace)
  runner_timeout_s=$(((UCI_TIMEOUT_MS + 999) / 1000 + UCI_RUNNER_GRACE_S))
  uci_log "starting runner: bash $UCI_WORK_DIR/runner.sh ${runner_args[*]}"
  rc=0
  uci_wait_child "$runner_timeout_s" "$UCI_RUNNER_KILL_AFTER_S" bash "$UCI_WORK_DIR/runner.sh" "${runner_args[@]}" || rc=$?
  uci_log "runner exited with code $rc"
  UCI_PHASE=finish
  if [[ ! -e $UCI_RESULT ]]; then
    if ((rc == 124 || rc == 137)); then
      uci_fail timeout "runner exceeded the launcher watchdog of ${runner_timeout_s}s and wrote no result.json"
    else
      uci_fail error "runner exited with code $rc without writing result.json"
    fi
  fi
  uci_log "launcher done"
}

# The host part, before the detach: validate, claim the runId, create both dirs, detach, answer.
uci_main() {
  local line
  local -a detach
  uci_validate || exit 2
  command -v git >/dev/null 2>&1 || { echo "unidesk-ci launcher: git is not installed on this host" >&2; exit 1; }
  # setsid (util-linux) leaves the dispatch session; nohup is the coreutils-only fallback.
  detach=(setsid)
  command -v setsid >/dev/null 2>&1 || detach=(nohup)
  mkdir -p -- "$UCI_RUNS_ROOT" || { echo "unidesk-ci launcher: cannot create runs root $UCI_RUNS_ROOT" >&2; exit 1; }
  line="{\"runId\":$(uci_json_string "$UCI_RUN_ID"),\"state\":\"%s\",\"resultDir\":$(uci_json_string "$UCI_RESULT_DIR")}\n"
  # mkdir of the result dir is the lock: atomic, so of two dispatches of one runId only one wins.
  if ! mkdir -- "$UCI_RESULT_DIR" 2>/dev/null; then
    if [[ -d $UCI_RESULT_DIR ]]; then
      # shellcheck disable=SC2059 # the format is built above from escaped values
      printf "$line" duplicate
      exit 0
    fi
    echo "unidesk-ci launcher: cannot create result dir $UCI_RESULT_DIR" >&2
    exit 1
  fi
  UCI_STARTED_AT=$(uci_now)
  UCI_START_MS=$(uci_now_ms)
  uci_log "launcher accepted run $UCI_RUN_ID: repo $UCI_REPO commit $UCI_COMMIT script $UCI_SCRIPT_PATH environment $UCI_ENVIRONMENT timeoutMs $UCI_TIMEOUT_MS keepNamespace $UCI_KEEP_NAMESPACE"
  # The work dir belongs to this runId, whose lock we now hold: start it fresh.
  if ! { rm -rf -- "$UCI_WORK_DIR" && mkdir -p -- "$UCI_WORK_DIR"; } 2>>"$UCI_LOG"; then
    uci_fail error "cannot create work dir $UCI_WORK_DIR"
    echo "unidesk-ci launcher: cannot create work dir $UCI_WORK_DIR" >&2
    exit 1
  fi
  uci_log "created $UCI_WORK_DIR and $UCI_RESULT_DIR; detaching"
  # A new session with every fd redirected, so the dispatch channel closes as soon as we exit.
  # The detached bash gets this script's values and functions, not a second copy of any text.
  "${detach[@]}" bash -c "$(declare -p "${!UCI_@}"; declare -f)"$'\n'uci_detached </dev/null >>"$UCI_LOG" 2>&1 &
  uci_log "detached launcher started as pid $!"
  # shellcheck disable=SC2059 # the format is built above from escaped values
  printf "$line" started
  exit 0
}

uci_main
