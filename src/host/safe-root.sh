# Prints root $2's canonical path, or why others could change it and fails ($1 names it: runs or work): every
# symlink and directory on it, as given and as resolved, is root's or ours; a directory others may write is
# sticky; the root itself is ours and only ours to write (docs/security.md). $3 (the launcher's mkdir, run
# with -p, umask 077) creates a missing root between the two passes; without it nothing is created. Paths
# start with "/", so no "--" is needed.
uci_safe() {
  local p q c u m n f
  for q in "$2" -; do
    [[ $q == - ]] && q=$(${3-:} -p "$2"; realpath -m "$2")
    p=
    for c in ${q//\// }; do
      p+=/$c
      [[ -d $p || -L $p ]] || break
      read -r u m n f <<<"$(LC_ALL=C stat -c '%u %#a %U %F' "$p" || echo -1)"
      [[ $f == d* ]] && ((${#p} < ${#q} ? (!u || u == EUID) && (m & 512 || !(m & 18)) : u == EUID && !(m & 18))) && continue
      [[ $f == sym* ]] && ((!u || u == EUID)) && continue
      printf 'unsafe %s root %s: %s is a %s of %s (uid %s) mode %s; make it yours (uid %s), mode 700, or set another %sRoot\n' "$1" "$2" "$p" "$f" "$n" "$u" "$m" "$EUID" "$1"
      return 1
    done
  done
  [[ $q =~ $UCI_RE_ABSOLUTE_PATH ]] || { echo "$1 root $2 resolves to a path ABSOLUTE_PATH refuses"; return 1; }
  echo "$q"
}
