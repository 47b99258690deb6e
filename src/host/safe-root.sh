# Prints root $2's canonical path, or why others could change it and fails ($1 names it: runs or work): every
# symlink and directory on it, as given and as resolved, is root's or ours; a directory others may write is
# sticky; the root itself is ours and only ours to write (docs/security.md). $3 (the launcher's mkdir, run
# with -p, umask 077) creates a missing root between the two passes; without it nothing is created. Paths
# start with "/", so no "--" is needed. One stat a pass answers for every step (a process costs more than the
# walk); when it cannot answer for one (gone since the walk), the last step reads nothing and is refused.
uci_safe() {
  local p q u m n f a
  for q in "$2" -; do
    [[ $q == - ]] && q=$(${3-:} -p "$2"; realpath -m "$2")
    a=() p=
    for f in ${q//\// }; do
      p+=/$f
      [[ -d $p || -L $p ]] && a+=("$p")
    done
    for p in "${a[@]}"; do
      read -r u m n f
      [[ $f == d* ]] && (((u == EUID || !u && ${#p} < ${#q}) && (!(m & 18) || m & 512 && ${#p} < ${#q}))) && continue
      [[ $f == sym* ]] && ((!u || u == EUID)) && continue
      printf "unsafe $1 root $2: %s is a %s of %s (uid $u) mode $m; make it yours (uid $EUID), mode 700, or set another ${1}Root\n" "$p" "$f" "$n"
      return 1
    done < <(LC_ALL=C stat -c '%u %#a %U %F' "${a[@]}")
  done
  [[ $q =~ $UCI_RE_ABSOLUTE_PATH ]] || { echo "$1 root $2 resolves to a path ABSOLUTE_PATH refuses"; return 1; }
  echo "$q"
}
