# Prints root $2's canonical path (made 0700 first when $3 is set), or why others could change it, and
# fails: every symlink and directory on it, as given and as resolved, is root's or ours; a directory others
# may write is sticky; the root itself is ours and only ours to write (docs/security.md).
uci_root() {
  local p q c u m n f
  for q in "$2" -; do
    [[ $q == - ]] && q=$([[ ${3-} ]] && mkdir -p "$2"; realpath -m "$2")
    p=
    for c in ${q//\// }; do
      p+=/$c
      [[ -e $p || -L $p ]] || break
      read -r u m n f <<<"$(stat -c '%u %#a %U %F' "$p" || echo -1)"
      [[ $f == d* ]] && ((${#p} < ${#q} ? (!u || u == EUID) && (m & 512 || !(m & 18)) : u == EUID && !(m & 18))) && continue
      [[ $f == sym* ]] && ((!u || u == EUID)) && continue
      printf 'unsafe %s root %s: %s is a %s of %s (uid %s) mode %s; chown it to uid %s and chmod 700, or set another %sRoot\n' "$1" "$2" "$p" "$f" "$n" "$u" "$m" "$EUID" "$1"
      return 1
    done
  done
  [[ $q =~ $UCI_RE_ABSOLUTE_PATH ]] || { echo "$1 root $2 resolves to a path ABSOLUTE_PATH refuses"; return 1; }
  echo "$q"
}
