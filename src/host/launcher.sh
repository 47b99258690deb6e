#!/usr/bin/env bash
# shellcheck disable=SC2015,SC2059,SC2317,SC2329
# unidesk-ci launcher: docs/launcher.md
set -uo pipefail
umask 077
UCI_REPO=@@REPO@@
UCI_COMMIT=@@MANIFEST_COMMIT@@
UCI_SCRIPT=@@SCRIPT_PATH@@
UCI_RUN_ID=@@RUN_ID@@
UCI_ENV=@@ENVIRONMENT@@
UCI_TIMEOUT_MS=@@TIMEOUT_MS@@
UCI_KEEP=@@KEEP_NAMESPACE@@
UCI_WORK_ROOT=@@WORK_ROOT@@
UCI_RUNS_ROOT=@@RUNS_ROOT@@
UCI_PROXY=@@EGRESS_PROXY@@
# @@RULES HTTPS_REPO FULL_SHA SCRIPT_PATH RUN_ID TIMEOUT_MS_MIN TIMEOUT_MS_MAX ABSOLUTE_PATH ABSOLUTE_PATH_MAX PROXY_URL@@
UCI_PHASE=setup
UCI_CHILD=

uci_now() { date -u +%FT%T.%3NZ; }
uci_log() { echo "$(uci_now) $*" >>"$UCI_LOG"; }
uci_die() { echo "unidesk-ci launcher: $1" >&2; exit "${2:-2}"; }

# A failed result.json unless one exists (its values are validated: no escaping needed).
uci_fail() {
  local t=$UCI_DIR/.result.$BASHPID r=@@=PIPELINERUN_PREFIX@@$UCI_RUN_ID n=null
  [[ -e $UCI_RESULT ]] && return
  uci_log "FAILED ($1): $2"
  [[ $(<"$UCI_DIR/@@=PIPELINERUN_FILE@@") == "$r" ]] 2>/dev/null && r=\"$r\" n=\"@@=NAMESPACE_PREFIX@@$UCI_RUN_ID\" || r=null
  printf '{"ok":false,"status":"%s","runId":"%s","manifestCommit":"%s","pipelineRun":%s,"temporaryNamespace":%s,"finishedAt":"%s","reason":"%s","writer":"launcher"}\n' \
    "$1" "$UCI_RUN_ID" "$UCI_COMMIT" "$r" "$n" "$(uci_now)" "$2" >"$t" &&
    { ln "$t" "$UCI_RESULT" 2>/dev/null || [[ -e $UCI_RESULT ]] || mv "$t" "$UCI_RESULT"; }
  rm -f "$t"
}

uci_validate() {
  local LC_ALL=C p f=
  [[ $UCI_REPO =~ $UCI_RE_HTTPS_REPO ]] || f=repo
  [[ $UCI_COMMIT =~ $UCI_RE_FULL_SHA ]] || f="manifest commit"
  [[ $UCI_SCRIPT =~ $UCI_RE_SCRIPT_PATH && $UCI_SCRIPT != *..* ]] || f="script path"
  [[ $UCI_RUN_ID =~ $UCI_RE_RUN_ID ]] || f="run id"
  [[ $UCI_ENV == dev ]] || f=environment
  [[ $UCI_TIMEOUT_MS =~ ^[1-9][0-9]{0,9}$ ]] && ((UCI_TIMEOUT_MS>=UCI_TIMEOUT_MS_MIN&&UCI_TIMEOUT_MS<=UCI_TIMEOUT_MS_MAX)) || f=timeout
  [[ $UCI_KEEP =~ ^(true|false)$ ]] || f=keep-namespace
  for p in "$UCI_WORK_ROOT" "$UCI_RUNS_ROOT"; do
    [[ $p =~ $UCI_RE_ABSOLUTE_PATH && ${#p} -le UCI_ABSOLUTE_PATH_MAX && ! /$p/ =~ /\.\.?/ ]] || f="workspace path"
  done
  [[ $UCI_PROXY =~ $UCI_RE_PROXY_URL ]] || f="egress proxy"
  [[ $f ]] && uci_die "invalid $f"
}

# uci:include safe-root.sh

uci_stop() { uci_fail @@=STATUS_ERROR@@ "$1"; exit 1; }

# Who owns a taken run id: its record (waited for) or an older launcher's log.
uci_owner() {
  local i re="(^| commit )(${UCI_RE_FULL_SHA:1:-1})"
  for i in {1..50}; do [[ -e $UCI_DIR/@@=COMMIT_FILE@@ || -e $UCI_LOG ]] && break; sleep 0.1; done
  for i in @@=COMMIT_FILE@@ @@=LAUNCHER_LOG@@; do
    [[ $(head -c 999 "$UCI_DIR/$i" 2>/dev/null) =~ $re ]] && echo "${BASH_REMATCH[2]}" && return
  done
}

# Backgrounded: a trapped signal interrupts the wait.
uci_child() {
  timeout -k "$1" "${@:2}" </dev/null &
  UCI_CHILD=$!
  wait $!
  set -- $?
  UCI_CHILD=
  return "$1"
}

uci_on_signal() {
  local m="before the runner started (during $UCI_PHASE)"
  trap - TERM INT
  [[ $UCI_CHILD ]] && kill "$UCI_CHILD" && wait "$UCI_CHILD"
  [[ $UCI_PHASE == runner ]] && m="while the runner ran, which wrote no result.json"
  uci_fail @@=STATUS_CANCELLED@@ "launcher received SIG$1 $m"
  exit 143
}

uci_detached() {
  local p=$UCI_PROXY c=$UCI_COMMIT v
  local -A b
  for v in TERM INT; do trap 'uci_on_signal '$v $v; done
  trap 'cd / && rm -rf "$UCI_WORK"; uci_fail @@=STATUS_ERROR@@ "launcher exited unexpectedly during $UCI_PHASE"' EXIT
  echo $BASHPID >"$UCI_DIR/@@=LAUNCHER_PID_FILE@@"
  # Private (umask 077), made by us in a proven root; entered once (and ours once entered): nothing is looked up
  # by path again that another user could change.
  rm -rf "$UCI_WORK"
  mkdir "$UCI_WORK" && cd "$UCI_WORK" && [[ -O . ]] || return
  UCI_PHASE=fetch
  # The proxy for git alone, no bypass, no fallback.
  git=(env -u no_proxy -u NO_PROXY git -c "http.proxy=$p" -C repo)
  git init -q repo && "${git[@]}" remote add origin "$UCI_REPO" || return
  uci_log "fetching $c from $UCI_REPO through egress proxy $p"
  # The commit and its trees; of the blobs, only the two read below.
  uci_child 10 300 "${git[@]}" fetch --no-tags --depth=1 --filter=blob:none origin "$c" ||
    uci_stop "git fetch of commit $c from $UCI_REPO through egress proxy $p failed (exit $?); no direct fallback"
  [[ $("${git[@]}" rev-parse --verify -q "$c^{commit}") == "$c" ]] || uci_stop "fetched object $c is not that commit"
  uci_log "verified commit $c"
  UCI_PHASE=extract
  while read -r m t o f; do [[ $m == 100* && $t == blob ]] && b[$f]=$o; done < <("${git[@]}" ls-tree "$c" @@=MANIFEST_FILE@@ "$UCI_SCRIPT")
  [[ ${b[@@=MANIFEST_FILE@@]-} && ${b[$UCI_SCRIPT]-} ]] || uci_stop "$UCI_SCRIPT or deploy.json is not a file at commit $c"
  uci_child 10 300 "${git[@]}" fetch -q --no-tags origin "${b[@]}" && "${git[@]}" cat-file blob "${b[$UCI_SCRIPT]}" >runner.sh &&
    "${git[@]}" cat-file blob "${b[@@=MANIFEST_FILE@@]}" >@@=MANIFEST_FILE@@ && cp @@=MANIFEST_FILE@@ "$UCI_DIR" && rm -rf repo ||
    uci_stop "git fetch of $UCI_SCRIPT and deploy.json failed; no direct fallback"
  uci_log "extracted runner.sh and deploy.json; clone removed"
  # Another scriptPath would be another program: checked before it runs.
  v=$(jq -c '.environments.dev.ci|[.scriptPath,.timeoutMs]' @@=MANIFEST_FILE@@ 2>&1 | head -c 200)
  [[ $v == "[\"$UCI_SCRIPT\",$UCI_TIMEOUT_MS]" ]] ||
    uci_stop "dispatched scriptPath $UCI_SCRIPT and timeoutMs $UCI_TIMEOUT_MS differ from deploy.json's ${v//[\"\\[:cntrl:]]/}"
  UCI_PHASE=runner
  a=(--run-id "$UCI_RUN_ID" --repo-url "$UCI_REPO" --desired-ref master --manifest-commit "$c" --manifest-file "$UCI_WORK/@@=MANIFEST_FILE@@"
    --environment "$UCI_ENV" --result-dir "$UCI_DIR" --timeout-ms "$UCI_TIMEOUT_MS")
  [[ $UCI_KEEP == true ]] && a+=(--keep-namespace)
  s=$(((UCI_TIMEOUT_MS+999)/1000+@@=WATCHDOG_MARGIN_S@@))
  uci_log "starting runner"
  t=$(date +%s%3N)
  uci_child 120 $s bash runner.sh "${a[@]}"
  rc=$?
  t=$(($(date +%s%3N)-t))
  uci_log "runner exited with code $rc"
  # timeout exits 124 (137 after KILL), never before s seconds; else 128+N is another signal.
  ((rc==124||rc==137)) && ((t>=s*1000)) && uci_fail @@=STATUS_TIMEOUT@@ "runner exceeded the launcher watchdog of ${s}s, no result.json"
  ((rc>128)) && m="killed by signal $((rc-128))" || m="exited with code $rc"
  uci_fail @@=STATUS_ERROR@@ "runner $m without writing result.json"
  uci_log "launcher done"
}

uci_main() {
  local l o w c=$UCI_COMMIT
  uci_validate
  for o in git jq; do command -v $o >/dev/null || uci_die "$o is missing" 1; done
  # No result can be written safely in a runs root others could change: refused now (exit 4).
  o=$(uci_safe runs "$UCI_RUNS_ROOT" mkdir) || uci_die "$o" @@=LAUNCHER_UNSAFE_ROOT_EXIT@@
  w=$(uci_safe work "$UCI_WORK_ROOT" mkdir)
  # Canonical roots, so liveness matches command lines as readers see them.
  UCI_DIR=$o/$UCI_RUN_ID UCI_WORK=$w/$UCI_RUN_ID
  UCI_LOG=$UCI_DIR/@@=LAUNCHER_LOG@@ UCI_RESULT=$UCI_DIR/@@=RESULT_FILE@@
  l="{\"runId\":\"$UCI_RUN_ID\",\"state\":\"%s\",\"resultDir\":\"$UCI_DIR\"%s}\n"
  # mkdir is the lock: one of two dispatches of a run id wins.
  if ! mkdir "$UCI_DIR" 2>/dev/null; then
    [[ -d $UCI_DIR ]] || uci_die "cannot create result dir $UCI_DIR" 1
    o=$(uci_owner)
    [[ $o == "$c" ]] && printf "$l" @@=LAUNCHER_DUPLICATE@@ && exit
    printf "$l" @@=LAUNCHER_CONFLICT@@ ",\"manifestCommit\":\"$o\""
    uci_die "run id taken by commit ${o:-unknown}; nothing started" @@=LAUNCHER_CONFLICT_EXIT@@
  fi
  # Owner record, renamed in (racers read all of it); unwritable: dir goes.
  echo "$c" >"$UCI_DIR/.c" && mv "$UCI_DIR/.c" "$UCI_DIR/@@=COMMIT_FILE@@" || { rm -r "$UCI_DIR"; uci_die "cannot write to $UCI_DIR" 1; }
  uci_log "launcher accepted run $UCI_RUN_ID: commit $c"
  if [[ $w == /* ]]; then
    # A new session, fds redirected: the dispatch returns at once.
    setsid bash -c "$(declare -p "${!UCI_@}"; declare -f)"$'\n'uci_detached </dev/null >>"$UCI_LOG" 2>&1 &
  else
    uci_fail @@=STATUS_ERROR@@ "$w"
  fi
  printf "$l" @@=LAUNCHER_STARTED@@
}

uci_main
