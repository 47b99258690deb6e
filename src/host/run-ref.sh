# Run references and the last green run (docs/readers.md#run-references-and-the-last-green-run). The order is
# the one `runs` lists: newest first by launcher.pid's mtime (written once, as the launcher detached), else the
# run dir's; ties by id. RUN_ID and RUN_REF come from src/rules.ts.
# @@RULES RUN_ID RUN_REF@@

# "<epoch>\t<id>" for every run dir under runs root $1, newest first.
uci_run_order() {
  local depth type time rel id
  local -A started=()
  while IFS=$'\t' read -r depth type time rel; do
    id=${rel%%/*}
    [[ $id =~ $UCI_RE_RUN_ID ]] || continue
    if ((depth == 2)) && [[ $type == f && $rel == "$id/@@=LAUNCHER_PID_FILE@@" ]]; then
      started[$id]=$time
    elif ((depth == 1)) && [[ $type == d && -z ${started[$id]+set} ]]; then
      started[$id]=$time
    fi
  done < <(find -H "$1" -mindepth 1 -maxdepth 2 \( -type d -o -name @@=LAUNCHER_PID_FILE@@ \) -printf '%d\t%y\t%T@\t%P\n' 2>/dev/null)
  for id in "${!started[@]}"; do printf '%s\t%s\n' "${started[$id]}" "$id"; done | LC_ALL=C sort -t$'\t' -k1,1gr -k2,2
}

# Does run dir $1 hold a result.json (a regular file) that says "status": "succeeded"? A JSON string cannot hold
# an unescaped quote, so the match is a key of the document.
uci_run_succeeded() {
  [[ -f $1/@@=RESULT_FILE@@ && ! -L $1/@@=RESULT_FILE@@ ]] &&
    head -c "$UCI_RESULT_CAP" -- "$1/@@=RESULT_FILE@@" 2>/dev/null | grep -Eq '"status"[[:space:]]*:[[:space:]]*"@@=STATUS_SUCCEEDED@@"'
}

# Did run dir $1 end without succeeding: a result.json (in any form) that does not say succeeded?
uci_run_failed() {
  [[ -e $1/@@=RESULT_FILE@@ || -L $1/@@=RESULT_FILE@@ ]] && ! uci_run_succeeded "$1"
}

# When UCI_RUN_ID is a reference: sets it to the run id it names and prints "ref\t<reference>\t<run id>"
# ("-" and UCI_RUN_ID left as the reference when no run matches).
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

# For run $UCI_RUN_ID when it ended without succeeding: "changes\t<id>\t<result.json>\t<deploy.json>\t<this
# run's deploy.json>" of the newest earlier run that succeeded (files as uci_file_field, deploy.json at most cap
# $1 bytes; "-" for all three when no earlier run succeeded). Nothing for a running or succeeded run.
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
    printf 'changes\t-\t-\t-\t%s\n' "$(uci_file_field "$UCI_RUNS_ROOT/$UCI_RUN_ID/@@=MANIFEST_FILE@@" "$cap")"
  else
    printf 'changes\t%s\t%s\t%s\t%s\n' "$green" "$(uci_file_field "$UCI_RUNS_ROOT/$green/@@=RESULT_FILE@@" "$UCI_RESULT_CAP")" \
      "$(uci_file_field "$UCI_RUNS_ROOT/$green/@@=MANIFEST_FILE@@" "$cap")" "$(uci_file_field "$UCI_RUNS_ROOT/$UCI_RUN_ID/@@=MANIFEST_FILE@@" "$cap")"
  fi
}
