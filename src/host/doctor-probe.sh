#!/usr/bin/env bash
# unidesk-ci doctor probe (docs/setup-d601.md#what-doctor-checks): fixed and read-only, one dispatch per doctor.
# Only the quoted values below are substituted. It creates, changes and deletes nothing, on the host or in
# the cluster: roots are judged by test -w and df on their nearest existing directory, the cluster gets
# reads and access reviews only, git ls-remote needs no repository, and kubectl's cache points at a path
# that cannot exist, so kubectl writes no cache files either.
set -uo pipefail

UCI_RUNS_ROOT=@@RUNS_ROOT@@
UCI_WORK_ROOT=@@WORK_ROOT@@
UCI_EGRESS_PROXY=@@EGRESS_PROXY@@
UCI_REPO=@@REPO@@
UCI_NAMESPACE=@@CI_NAMESPACE@@
UCI_PIPELINE=@@PIPELINE@@
UCI_SERVICE_ACCOUNT=@@SERVICE_ACCOUNT@@
UCI_MIN_FREE_KIB=@@MIN_FREE_KIB@@
UCI_BUDGET_S=@@BUDGET_S@@
# One tool per line.
UCI_TOOLS=@@TOOLS@@
# @@RULES FULL_SHA ABSOLUTE_PATH KUBECTL_REQUEST_GO_ENV@@
# One access check per line: <id> <key> <what it asks, in words>; the key is the review's attributes as the
# template prints them (verb|group|resource|subresource|name|namespace).
UCI_ACCESS=@@ACCESS@@
# Every access check as a SelfSubjectAccessReview, in one List (JSON), and what kubectl prints of each answer.
UCI_ACCESS_REVIEWS=@@ACCESS_REVIEWS@@
UCI_REVIEW_TEMPLATE=@@REVIEW_TEMPLATE@@

export KUBECACHEDIR=/dev/null/unidesk-ci-doctor
export KUBECONFIG="${KUBECONFIG:-/etc/rancher/k3s/k3s.yaml}"
export GIT_TERMINAL_PROMPT=0

uci_spent() { ((SECONDS >= UCI_BUDGET_S)); }

# check <id> <pass|fail|skip> <reason or -> <detail>. A check that fails once the budget is used up may have been cut
# short by it (uci_bounded), not failed by what it checks: it is reported unchecked for that reason, blaming nothing.
uci_check() {
  if [[ $2 == fail ]] && uci_spent; then
    set -- "$1" skip budget "not finished within the probe's ${UCI_BUDGET_S}s budget"
  fi
  printf 'check\t%s\t%s\t%s\tb64:%s\n' "$1" "$2" "$3" "$(printf '%s' "$4" | base64 -w0)"
}

# The last line of a command's output that is not empty and not a kubectl warning, at most 300 bytes.
uci_last() {
  printf '%s\n' "$1" | grep -v -e '^[[:space:]]*$' -e '^Warning:' | tail -n 1 | head -c 300
}

# Runs a command for at most $1 seconds and never past the probe's budget (timeout when present).
uci_bounded() {
  local limit=$1 left=$((UCI_BUDGET_S - SECONDS))
  shift
  ((left < limit)) && limit=$left
  ((limit >= 1)) || return 124
  if command -v timeout >/dev/null 2>&1; then
    timeout --kill-after=2 "$limit" "$@"
  else
    "$@"
  fi
}

uci_has() { command -v "$1" >/dev/null 2>&1; }

# "1.5 GiB" or "300 MiB" for a number of KiB.
uci_size() {
  if (($1 >= 10485760)); then
    printf '%d GiB' $(($1 / 1048576))
  elif (($1 >= 1048576)); then
    printf '%d.%d GiB' $(($1 / 1048576)) $(($1 % 1048576 * 10 / 1048576))
  else
    printf '%d MiB' $(($1 / 1024))
  fi
}

uci_tool() {
  local tool=$1 version
  if ! uci_has "$tool"; then
    uci_check "tool.$tool" fail missing "$tool not found on PATH ($PATH)"
    return
  fi
  case $tool in
    kubectl) version=$(kubectl version --client 2>/dev/null | head -n 1) ;;
    *) version=$("$tool" --version 2>&1 | head -n 1) ;;
  esac
  uci_check "tool.$tool" pass - "$(command -v "$tool"): ${version:-version unknown}"
}

# The root itself when it exists, else its nearest existing ancestor.
uci_existing() {
  local path=$1
  while [[ ! -e $path && $path == /?* ]]; do
    path=${path%/*}
    path=${path:-/}
  done
  printf '%s' "$path"
}

# uci:include runs-root.sh

uci_root() {
  local id=$1 root=$2 base free state why
  base=$(uci_existing "$root")
  # A file of our own in the way is a plain mistake, said as such (another user's is the unsafe case below).
  if [[ ! -d $base && -O $base ]]; then
    uci_check "$id" fail not-directory "$root cannot be used: $base is not a directory"
    return
  fi
  # The launcher's own test: a root others could change is refused there, so it is red here.
  if ! why=$(uci_safe "${id%-root}" "$root"); then
    uci_check "$id" fail unsafe "$why"
    return
  fi
  # Every reader refuses a runs root holding a run directory another user could have written: so does doctor.
  if [[ $id == runs-root ]] && why=$(uci_foreign_run "$(realpath -m -- "$root")"); then
    uci_check "$id" fail foreign-run "$why"
    return
  fi
  if [[ ! -w $base || ! -x $base ]]; then
    uci_check "$id" fail unwritable "$root is not writable: $base does not let $(id -un 2>/dev/null || echo this user) create files"
    return
  fi
  free=$(df -Pk -- "$base" 2>/dev/null | awk 'NR == 2 { print $4 }')
  if [[ ! $free =~ ^[0-9]+$ ]]; then
    uci_check "$id" fail no-df "cannot read the free disk of $base (df -Pk failed)"
    return
  fi
  state="exists"
  [[ $base != "$root" ]] && state="does not exist yet; $base is writable, the launcher creates it"
  if ((free < UCI_MIN_FREE_KIB)); then
    uci_check "$id" fail low-disk "$root: only $(uci_size "$free") free, less than the $(uci_size "$UCI_MIN_FREE_KIB") a run needs"
    return
  fi
  uci_check "$id" pass - "$root writable ($state), $(uci_size "$free") free"
}

# kubectl with Go's runtime settings for a request, as the runner's (docs/runner.md#kubectl). Unquoted: NAME=value words.
uci_kubectl() {
  # shellcheck disable=SC2086
  uci_bounded 10 env $UCI_KUBECTL_REQUEST_GO_ENV kubectl --request-timeout=5s "$@" 2>&1
}

# get <id> <what> <kubectl get arguments…>: present or not.
uci_get() {
  local id=$1 what=$2 out
  shift 2
  if out=$(uci_kubectl get "$@" -o name); then
    uci_check "$id" pass - "$what exists ($(uci_last "$out"))"
  elif [[ $out == *NotFound* || $out == *"not found"* ]]; then
    uci_check "$id" fail missing "$what does not exist: $(uci_last "$out")"
  else
    uci_check "$id" fail error "cannot read $what: $(uci_last "$out")"
  fi
}

# Every access review in one kubectl: a list of SelfSubjectAccessReviews sent to `create`, which the API server
# answers and stores nowhere (what `kubectl auth can-i` sends, one process instead of one a question). Each
# answer comes back as "<key>|<allowed>|<reason>"; a question with no answer failed or was cut by the budget.
uci_access() {
  local id key what out line rest reason
  local -A answer=()
  if uci_spent; then
    uci_skip_access budget "not checked: the probe used up its ${UCI_BUDGET_S}s budget"
    return
  fi
  out=$(uci_kubectl create --validate=false -f - -o "jsonpath=$UCI_REVIEW_TEMPLATE" <<<"$UCI_ACCESS_REVIEWS")
  # A reason is the authorizer's text: one with a line break could pose as another answer, so a question answered
  # twice counts as not answered.
  while IFS= read -r line; do
    while read -r id key what; do
      [[ -n $id && $line == "$key|"* ]] || continue
      [[ -n ${answer[$id]+set} ]] && answer[$id]=twice || answer[$id]=${line#"$key|"}
    done <<<"$UCI_ACCESS"
  done <<<"$out"
  while read -r id key what; do
    [[ -n $id ]] || continue
    if [[ -z ${answer[$id]+set} || ${answer[$id]} == twice ]]; then
      uci_check "can-i.$id" fail error "cannot ask whether $what is allowed: $(uci_last "$out")"
      continue
    fi
    rest=${answer[$id]}
    reason=${rest#*|}
    case ${rest%%|*} in
      true) uci_check "can-i.$id" pass - "allowed: $what" ;;
      *) uci_check "can-i.$id" fail denied "denied: $what${reason:+ ($reason)}" ;;
    esac
  done <<<"$UCI_ACCESS"
}

uci_skip_access() {
  local id rest
  while read -r id rest; do
    [[ -n $id ]] && uci_check "can-i.$id" skip "$1" "$2"
  done <<<"$UCI_ACCESS"
}

# Every check after kube-api, skipped for reason $1 ($2 says why).
uci_skip_cluster() {
  local id rest
  [[ $1 == kube-api ]] || uci_check kube-api skip "$1" "not checked: $2"
  for id in namespace tekton-crds pipeline service-account; do uci_check "$id" skip "$1" "not checked: $2"; done
  uci_skip_access "$1" "not checked: $2"
}

uci_cluster() {
  local files=() file unreadable=() out server
  IFS=: read -ra files <<<"$KUBECONFIG"
  for file in "${files[@]}"; do
    [[ -f $file && -r $file ]] || unreadable+=("$file")
  done
  if ((${#unreadable[@]} > 0 || ${#files[@]} == 0)); then
    uci_check kubeconfig fail unreadable "KUBECONFIG=$KUBECONFIG: not a readable file: ${unreadable[*]}"
  else
    uci_check kubeconfig pass - "KUBECONFIG=$KUBECONFIG is readable"
  fi
  if ! uci_has kubectl; then
    uci_skip_cluster no-kubectl "kubectl is missing"
    return
  fi
  server=$(kubectl config view --minify -o 'jsonpath={.clusters[0].cluster.server}' 2>/dev/null)
  if ! out=$(uci_kubectl version) || [[ $out != *"Server Version"* ]]; then
    if uci_spent; then
      uci_skip_cluster budget "the probe used up its ${UCI_BUDGET_S}s budget"
      return
    fi
    uci_check kube-api fail unreachable "${server:-the API server} does not answer: $(uci_last "$out")"
    uci_skip_cluster kube-api "the API server does not answer"
    return
  fi
  uci_check kube-api pass - "${server:-the API server} answers ($(printf '%s\n' "$out" | grep 'Server Version' | head -c 200))"
  uci_get namespace "namespace $UCI_NAMESPACE" namespace "$UCI_NAMESPACE"
  if out=$(uci_kubectl get --raw /apis/tekton.dev/v1); then
    local missing=() kind
    for kind in pipelines pipelineruns taskruns; do
      [[ $out =~ \"name\":\ ?\"$kind\" ]] || missing+=("$kind")
    done
    if ((${#missing[@]} > 0)); then
      uci_check tekton-crds fail missing "tekton.dev/v1 serves no ${missing[*]}"
    else
      uci_check tekton-crds pass - "tekton.dev/v1 serves pipelines, pipelineruns and taskruns"
    fi
  elif [[ $out == *NotFound* || $out == *"could not find"* ]]; then
    uci_check tekton-crds fail missing "the API server does not serve tekton.dev/v1: Tekton Pipelines is not installed (or too old)"
  else
    uci_check tekton-crds fail error "cannot read the tekton.dev/v1 API: $(uci_last "$out")"
  fi
  uci_get pipeline "pipeline $UCI_NAMESPACE/$UCI_PIPELINE" -n "$UCI_NAMESPACE" pipelines.tekton.dev "$UCI_PIPELINE"
  uci_get service-account "serviceaccount $UCI_NAMESPACE/$UCI_SERVICE_ACCOUNT" -n "$UCI_NAMESPACE" serviceaccount "$UCI_SERVICE_ACCOUNT"
  uci_access
}

uci_egress() {
  local hostport host port out
  hostport=${UCI_EGRESS_PROXY#http://}
  hostport=${hostport%/}
  host=${hostport%:*}
  port=${hostport##*:}
  # shellcheck disable=SC2016 # $0 and $1 belong to the inner bash
  if ! uci_bounded 5 bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>/dev/null; then
    uci_check egress-proxy fail proxy-down "egress proxy $UCI_EGRESS_PROXY refuses connections (or does not answer within 5 s)"
    return
  fi
  if [[ -z $UCI_REPO ]]; then
    uci_check egress-proxy pass - "egress proxy $UCI_EGRESS_PROXY accepts connections (the repository was not tried: no valid environments.dev.ci.repo)"
    return
  fi
  # Like the launcher's fetch: the proxy forced for git, no_proxy dropped, no direct fallback.
  if ! out=$(uci_bounded 20 env -u no_proxy -u NO_PROXY \
    "http_proxy=$UCI_EGRESS_PROXY" "https_proxy=$UCI_EGRESS_PROXY" \
    "HTTP_PROXY=$UCI_EGRESS_PROXY" "HTTPS_PROXY=$UCI_EGRESS_PROXY" \
    "all_proxy=$UCI_EGRESS_PROXY" "ALL_PROXY=$UCI_EGRESS_PROXY" \
    git -c "http.proxy=$UCI_EGRESS_PROXY" -c http.lowSpeedLimit=1 -c http.lowSpeedTime=15 \
    ls-remote -- "$UCI_REPO" refs/heads/master 2>&1); then
    uci_check egress-proxy fail repo-unreachable "git ls-remote $UCI_REPO through $UCI_EGRESS_PROXY failed: $(uci_last "$out")"
  elif [[ $out =~ (${UCI_RE_FULL_SHA:1:-1})[[:space:]]refs/heads/master ]]; then
    uci_check egress-proxy pass - "$UCI_REPO answers through $UCI_EGRESS_PROXY (master at ${BASH_REMATCH[1]:0:12})"
  else
    uci_check egress-proxy fail no-master "$UCI_REPO answers through $UCI_EGRESS_PROXY but has no master branch"
  fi
}

printf 'unidesk-ci-doctor\t1\n'
while read -r tool; do
  [[ -n $tool ]] && uci_tool "$tool"
done <<<"$UCI_TOOLS"
uci_root runs-root "$UCI_RUNS_ROOT"
uci_root work-root "$UCI_WORK_ROOT"
uci_cluster
if uci_has git; then
  uci_egress
else
  uci_check egress-proxy skip no-git "not checked: git is missing"
fi
printf 'end\n'
