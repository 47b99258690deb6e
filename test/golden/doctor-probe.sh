#!/usr/bin/env bash
# unidesk-ci doctor probe (docs/setup-d601.md#what-doctor-checks): fixed and read-only, one dispatch per doctor.
set -uo pipefail

UCI_RUNS_ROOT='/home/ubuntu/.unidesk/runs'
UCI_WORK_ROOT='/tmp/unidesk-ci'
UCI_EGRESS_PROXY='http://127.0.0.1:18789'
UCI_REPO='https://github.com/pikasTech/unidesk'
UCI_NAMESPACE='unidesk-ci'
UCI_PIPELINE='unidesk-dev-namespace-e2e'
UCI_SERVICE_ACCOUNT='unidesk-ci-e2e'
UCI_MIN_FREE_KIB='262144'
UCI_BUDGET_S='40'
UCI_TOOLS='bash
git
kubectl
jq
setsid
timeout'
UCI_RE_FULL_SHA='^[0-9a-f]{40}$'
UCI_RE_ABSOLUTE_PATH='^(/[A-Za-z0-9._-]+)+$'
UCI_KUBECTL_REQUEST_GO_ENV='GOMAXPROCS=1 GOGC=off GOMEMLIMIT=64MiB'
UCI_ACCESS='create-namespaces create||namespaces||| create namespaces cluster-wide
delete-namespaces delete||namespaces||| delete namespaces cluster-wide
list-namespaces list||namespaces||| list namespaces cluster-wide
create-rolebindings create|rbac.authorization.k8s.io|rolebindings|||unidesk-ci-doctor create rolebindings.rbac.authorization.k8s.io in unidesk-ci-doctor
bind-edit bind|rbac.authorization.k8s.io|clusterroles||edit|unidesk-ci-doctor bind clusterroles.rbac.authorization.k8s.io/edit in unidesk-ci-doctor
create-pipelineruns create|tekton.dev|pipelineruns|||unidesk-ci create pipelineruns.tekton.dev in unidesk-ci
get-pipelineruns get|tekton.dev|pipelineruns|||unidesk-ci get pipelineruns.tekton.dev in unidesk-ci
list-pipelineruns list|tekton.dev|pipelineruns|||unidesk-ci list pipelineruns.tekton.dev in unidesk-ci
patch-pipelineruns patch|tekton.dev|pipelineruns|||unidesk-ci patch pipelineruns.tekton.dev in unidesk-ci
list-taskruns list|tekton.dev|taskruns|||unidesk-ci list taskruns.tekton.dev in unidesk-ci
list-pods list||pods|||unidesk-ci list pods in unidesk-ci
read-pod-logs get||pods|log||unidesk-ci get pods/log in unidesk-ci'
UCI_ACCESS_REVIEWS='{"apiVersion":"v1","kind":"List","items":[{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"create","group":"","resource":"namespaces","subresource":"","name":"","namespace":""}}},{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"delete","group":"","resource":"namespaces","subresource":"","name":"","namespace":""}}},{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"list","group":"","resource":"namespaces","subresource":"","name":"","namespace":""}}},{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"create","group":"rbac.authorization.k8s.io","resource":"rolebindings","subresource":"","name":"","namespace":"unidesk-ci-doctor"}}},{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"bind","group":"rbac.authorization.k8s.io","resource":"clusterroles","subresource":"","name":"edit","namespace":"unidesk-ci-doctor"}}},{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"create","group":"tekton.dev","resource":"pipelineruns","subresource":"","name":"","namespace":"unidesk-ci"}}},{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"get","group":"tekton.dev","resource":"pipelineruns","subresource":"","name":"","namespace":"unidesk-ci"}}},{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"list","group":"tekton.dev","resource":"pipelineruns","subresource":"","name":"","namespace":"unidesk-ci"}}},{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"patch","group":"tekton.dev","resource":"pipelineruns","subresource":"","name":"","namespace":"unidesk-ci"}}},{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"list","group":"tekton.dev","resource":"taskruns","subresource":"","name":"","namespace":"unidesk-ci"}}},{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"list","group":"","resource":"pods","subresource":"","name":"","namespace":"unidesk-ci"}}},{"apiVersion":"authorization.k8s.io/v1","kind":"SelfSubjectAccessReview","spec":{"resourceAttributes":{"verb":"get","group":"","resource":"pods","subresource":"log","name":"","namespace":"unidesk-ci"}}}]}'
UCI_REVIEW_TEMPLATE='{.spec.resourceAttributes.verb}|{.spec.resourceAttributes.group}|{.spec.resourceAttributes.resource}|{.spec.resourceAttributes.subresource}|{.spec.resourceAttributes.name}|{.spec.resourceAttributes.namespace}|{.status.allowed}|{.status.reason}{"\n"}'

export KUBECACHEDIR=/dev/null/unidesk-ci-doctor
export KUBECONFIG="${KUBECONFIG:-/etc/rancher/k3s/k3s.yaml}"
export GIT_TERMINAL_PROMPT=0

uci_spent() { ((SECONDS >= UCI_BUDGET_S)); }

uci_check() {
  if [[ $2 == fail ]] && uci_spent; then
    set -- "$1" skip budget "not finished within the probe's ${UCI_BUDGET_S}s budget"
  fi
  printf 'check\t%s\t%s\t%s\tb64:%s\n' "$1" "$2" "$3" "$(printf '%s' "$4" | base64 -w0)"
}

uci_last() {
  printf '%s\n' "$1" | grep -v -e '^[[:space:]]*$' -e '^Warning:' | tail -n 1 | head -c 300
}

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

uci_existing() {
  local path=$1
  while [[ ! -e $path && $path == /?* ]]; do
    path=${path%/*}
    path=${path:-/}
  done
  printf '%s' "$path"
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

uci_root() {
  local id=$1 root=$2 base free state why
  base=$(uci_existing "$root")
  if [[ ! -d $base && -O $base ]]; then
    uci_check "$id" fail not-directory "$root cannot be used: $base is not a directory"
    return
  fi
  if ! why=$(uci_safe "${id%-root}" "$root"); then
    uci_check "$id" fail unsafe "$why"
    return
  fi
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

uci_kubectl() {
  # shellcheck disable=SC2086
  uci_bounded 10 env $UCI_KUBECTL_REQUEST_GO_ENV kubectl --request-timeout=5s "$@" 2>&1
}

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

uci_access() {
  local id key what out line rest reason
  local -A answer=()
  if uci_spent; then
    uci_skip_access budget "not checked: the probe used up its ${UCI_BUDGET_S}s budget"
    return
  fi
  out=$(uci_kubectl create --validate=false -f - -o "jsonpath=$UCI_REVIEW_TEMPLATE" <<<"$UCI_ACCESS_REVIEWS")
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
