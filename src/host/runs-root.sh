# Readers believe only this user's runs (docs/security.md#readers-believe-only-this-users-runs). The runs root is
# proven as the launcher proves it (uci_safe, the one check: safe-root.sh comes with this file) and used by its
# canonical path, as the launcher writes it into its and the runner's command lines (the liveness rule compares
# those as text, so a symlinked root must not make a live run look lost). A root, run directory or result.json
# another user could have written is answered "unsafe\t<why>" and "end": nothing of it is read or believed.
# @@RULES ABSOLUTE_PATH RUN_ID@@
uci_unsafe() {
  printf 'unsafe\t%s\nend\n' "${1//[[:cntrl:]]/ }"
  exit 0
}

# Why the first run directory in runs root $1 that is not ours alone is not (uci_safe's rule for a root), and 0;
# 1 when every one is. One find; only a run directory that is not plainly a directory of ours others cannot write
# gets uci_safe's full walk (our symlink to another user's directory included).
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

# After the reader's header: the runs root, proven and canonical, and every run directory in it ours alone.
uci_runs_root() {
  local o
  o=$(uci_safe runs "$UCI_RUNS_ROOT") || uci_unsafe "$o"
  UCI_RUNS_ROOT=$o
  o=$(uci_foreign_run "$o") && uci_unsafe "$o"
}

# File $1 of a run, when there is one: not believed unless it is this user's (a symlink is judged where it is read).
uci_own_file() {
  [[ ! -e $1 || -L $1 || -O $1 ]] && return 0
  uci_unsafe "unsafe file $1: it belongs to $(stat -c '%U (uid %u)' -- "$1" 2>/dev/null), not to uid $EUID; another user could have written it: remove it"
}
