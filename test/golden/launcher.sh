#!/usr/bin/env bash
# shellcheck disable=SC2015,SC2059,SC2317,SC2329
# unidesk-ci launcher: docs/launcher.md
set -uo pipefail
umask 077
UCI_REPO='https://github.com/pikasTech/unidesk'
UCI_COMMIT='0123456789abcdef0123456789abcdef01234567'
UCI_SCRIPT='scripts/ci/dev-e2e.sh'
UCI_RUN_ID='dev-20261127-162626-k3x9a2'
UCI_ENV='dev'
UCI_TIMEOUT_MS='1800000'
UCI_KEEP='false'
UCI_WORK_ROOT='/tmp/unidesk-ci'
UCI_RUNS_ROOT='/home/ubuntu/.unidesk/runs'
UCI_PROXY='http://127.0.0.1:18789'
UCI_RE_HTTPS_REPO='^https://[A-Za-z0-9.-]+(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?(/[A-Za-z0-9_~-][A-Za-z0-9._~-]*)+/?$'
UCI_RE_FULL_SHA='^[0-9a-f]{40}$'
UCI_RE_SCRIPT_PATH='^scripts/ci/[A-Za-z0-9._-]+\.sh$'
UCI_RE_RUN_ID='^[a-z0-9]([a-z0-9-]{0,38}[a-z0-9])?$'
UCI_TIMEOUT_MS_MIN=60000
UCI_TIMEOUT_MS_MAX=21600000
UCI_RE_ABSOLUTE_PATH='^(/[A-Za-z0-9._-]+)+$'
UCI_ABSOLUTE_PATH_MAX=128
UCI_RE_PROXY_URL='^http://[A-Za-z0-9.-]+'"${UCI_RE_HTTPS_REPO:24:87}"'/?$'
UCI_PHASE=setup
UCI_CHILD=
uci_now() { date -u +%FT%T.%3NZ; }
uci_log() { echo "$(uci_now) $*" >>"$UCI_LOG"; }
uci_die() { echo "unidesk-ci launcher: $1" >&2; exit "${2:-2}"; }
uci_fail() {
local t=$UCI_DIR/.result.$BASHPID r=e2e-$UCI_RUN_ID n=null
[[ -e $UCI_RESULT ]] && return
uci_log "FAILED ($1): $2"
[[ $(<"$UCI_DIR/pipelinerun.txt") == "$r" ]] 2>/dev/null && r=\"$r\" n=\"unidesk-ci-$UCI_RUN_ID\" || r=null
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
uci_stop() { uci_fail error "$1"; exit 1; }
uci_owner() {
local i re="(^| commit )(${UCI_RE_FULL_SHA:1:-1})"
for i in {1..50}; do [[ -e $UCI_DIR/manifest-commit || -e $UCI_LOG ]] && break; sleep 0.1; done
for i in manifest-commit launcher.log; do
[[ $(head -c 999 "$UCI_DIR/$i" 2>/dev/null) =~ $re ]] && echo "${BASH_REMATCH[2]}" && return
done
}
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
uci_fail cancelled "launcher received SIG$1 $m"
exit 143
}
uci_detached() {
local p=$UCI_PROXY c=$UCI_COMMIT v
local -A b
for v in TERM INT; do trap 'uci_on_signal '$v $v; done
trap 'cd / && rm -rf "$UCI_WORK"; uci_fail error "launcher exited unexpectedly during $UCI_PHASE"' EXIT
echo $BASHPID >"$UCI_DIR/launcher.pid"
rm -rf "$UCI_WORK"
mkdir "$UCI_WORK" && cd "$UCI_WORK" && [[ -O . ]] || return
UCI_PHASE=fetch
git=(env -u no_proxy -u NO_PROXY git -c "http.proxy=$p" -C repo)
git init -q repo && "${git[@]}" remote add origin "$UCI_REPO" || return
uci_log "fetching $c from $UCI_REPO through egress proxy $p"
uci_child 10 300 "${git[@]}" fetch --no-tags --depth=1 --filter=blob:none origin "$c" ||
uci_stop "git fetch of commit $c from $UCI_REPO through egress proxy $p failed (exit $?); no direct fallback"
[[ $("${git[@]}" rev-parse --verify -q "$c^{commit}") == "$c" ]] || uci_stop "fetched object $c is not that commit"
uci_log "verified commit $c"
UCI_PHASE=extract
while read -r m t o f; do [[ $m == 100* && $t == blob ]] && b[$f]=$o; done < <("${git[@]}" ls-tree "$c" deploy.json "$UCI_SCRIPT")
[[ ${b[deploy.json]-} && ${b[$UCI_SCRIPT]-} ]] || uci_stop "$UCI_SCRIPT or deploy.json is not a file at commit $c"
uci_child 10 300 "${git[@]}" fetch -q --no-tags origin "${b[@]}" && "${git[@]}" cat-file blob "${b[$UCI_SCRIPT]}" >runner.sh &&
"${git[@]}" cat-file blob "${b[deploy.json]}" >deploy.json && cp deploy.json "$UCI_DIR" && rm -rf repo ||
uci_stop "git fetch of $UCI_SCRIPT and deploy.json failed; no direct fallback"
uci_log "extracted runner.sh and deploy.json; clone removed"
v=$(jq -c '.environments.dev.ci|[.scriptPath,.timeoutMs]' deploy.json 2>&1 | head -c 200)
[[ $v == "[\"$UCI_SCRIPT\",$UCI_TIMEOUT_MS]" ]] ||
uci_stop "dispatched scriptPath $UCI_SCRIPT and timeoutMs $UCI_TIMEOUT_MS differ from deploy.json's ${v//[\"\\[:cntrl:]]/}"
UCI_PHASE=runner
a=(--run-id "$UCI_RUN_ID" --repo-url "$UCI_REPO" --desired-ref master --manifest-commit "$c" --manifest-file "$UCI_WORK/deploy.json"
--environment "$UCI_ENV" --result-dir "$UCI_DIR" --timeout-ms "$UCI_TIMEOUT_MS")
[[ $UCI_KEEP == true ]] && a+=(--keep-namespace)
s=$(((UCI_TIMEOUT_MS+999)/1000+600))
uci_log "starting runner"
t=$(date +%s%3N)
uci_child 120 $s bash runner.sh "${a[@]}"
rc=$?
t=$(($(date +%s%3N)-t))
uci_log "runner exited with code $rc"
((rc==124||rc==137)) && ((t>=s*1000)) && uci_fail timeout "runner exceeded the launcher watchdog of ${s}s, no result.json"
((rc>128)) && m="killed by signal $((rc-128))" || m="exited with code $rc"
uci_fail error "runner $m without writing result.json"
uci_log "launcher done"
}
uci_main() {
local l o w c=$UCI_COMMIT
uci_validate
for o in git jq; do command -v $o >/dev/null || uci_die "$o is missing" 1; done
o=$(uci_safe runs "$UCI_RUNS_ROOT" mkdir) || uci_die "$o" 4
w=$(uci_safe work "$UCI_WORK_ROOT" mkdir)
UCI_DIR=$o/$UCI_RUN_ID UCI_WORK=$w/$UCI_RUN_ID
UCI_LOG=$UCI_DIR/launcher.log UCI_RESULT=$UCI_DIR/result.json
l="{\"runId\":\"$UCI_RUN_ID\",\"state\":\"%s\",\"resultDir\":\"$UCI_DIR\"%s}\n"
if ! mkdir "$UCI_DIR" 2>/dev/null; then
[[ -d $UCI_DIR ]] || uci_die "cannot create result dir $UCI_DIR" 1
o=$(uci_owner)
[[ $o == "$c" ]] && printf "$l" duplicate && exit
printf "$l" conflict ",\"manifestCommit\":\"$o\""
uci_die "run id taken by commit ${o:-unknown}; nothing started" 3
fi
echo "$c" >"$UCI_DIR/.c" && mv "$UCI_DIR/.c" "$UCI_DIR/manifest-commit" || { rm -r "$UCI_DIR"; uci_die "cannot write to $UCI_DIR" 1; }
uci_log "launcher accepted run $UCI_RUN_ID: commit $c"
if [[ $w == /* ]]; then
setsid bash -c "$(declare -p "${!UCI_@}"; declare -f)"$'\n'uci_detached </dev/null >>"$UCI_LOG" 2>&1 &
else
uci_fail error "$w"
fi
printf "$l" started
}
uci_main
