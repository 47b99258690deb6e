# Prints root $2's canonical path, or why others could change it and fails ($1 names it: runs or work): every
# symlink and directory on it, as given and as resolved, is root's or ours; a directory others may write is
# sticky; the root itself is ours and only ours to write (docs/security.md). $3 (the launcher's mkdir, run
# with -p, umask 077) creates a missing root between the two passes; without it nothing is created. Paths
# start with "/", so no "--" is needed. Every step that exists is checked, whatever it is (a file or FIFO of
# anyone's at the root's name is refused, not skipped), and after the mkdir the root itself must be there: a name
# left free in a sticky dir is anyone's to take. One stat a pass answers for every step (a process costs more than
# the walk); when it cannot answer for one (gone since the walk), the last step reads nothing: "missing", refused.
uci_safe() {
  local p q u m n f a w r=
  for q in "$2" -; do
    [[ $q == - ]] && q=$(${3-:} -p "$2"; realpath -m "$2") && r=${3-}
    a=() p=
    for f in ${q//\// }; do
      p+=/$f
      [[ -e $p || -L $p || $r && $p == "$q" ]] && a+=("$p")
    done
    for p in "${a[@]}"; do
      read -r u m n f && w="a $f of $n (uid $u) mode $m" || w=missing
      [[ $f == d* ]] && (((u == EUID || !u && ${#p} < ${#q}) && (!(m & 18) || m & 512 && ${#p} < ${#q}))) && continue
      [[ $f == sym* ]] && ((!u || u == EUID)) && continue
      printf "unsafe $1 root $2: %s is %s; make it yours (uid $EUID), mode 700, or set another ${1}Root\n" "$p" "$w"
      return 1
    done < <(LC_ALL=C stat -c '%u %#a %U %F' "${a[@]}" 2>/dev/null)
  done
  [[ $q =~ $UCI_RE_ABSOLUTE_PATH ]] || { echo "$1 root $2 resolves to a path ABSOLUTE_PATH refuses"; return 1; }
  echo "$q"
}
