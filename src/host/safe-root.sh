# Prints root $2's canonical path, or why others could change it and fails ($1 names it: runs or work): every
# symlink and directory on it, as given and as resolved, is root's or ours; a directory others may write is
# sticky; the root itself is ours and only ours to write (docs/security.md). $3 (the launcher's mkdir, run
# with -p, umask 077) creates a missing root between the two passes; without it nothing is created. Paths
# start with "/", so no "--" is needed. The walk stops at the first step that is missing; every step before it is
# checked, whatever it is (a file or FIFO of anyone's at a step's name is refused, not skipped), and so is that
# step if it is there by the time stat looks. One stat a pass answers for every step (a process costs more than
# the walk); the steps it cannot answer for are always the last ones (each is inside the one before). Only the step
# that was already missing in the walk may stay unanswered, and not after the launcher's mkdir: a step that was
# there and is gone ("missing") is refused, so renaming a directory away for the walk and back for stat (or for
# the reader after) proves nothing; and the root must be there after the mkdir, a free name being anyone's to take.
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
      # (Arithmetic without blanks: the launcher sends these bytes.)
      [[ $f == d* ]] && (((u==EUID||!u&&${#p}<${#q})&&(!(m&18)||m&512&&${#p}<${#q}))) && continue
      [[ $f == sym* ]] && ((!u||u==EUID)) && continue
      printf "unsafe $1 root $2: %s is %s; make it yours (uid $EUID), mode 700, or set another ${1}Root\n" "$p" "$w"
      return 1
    done < <(LC_ALL=C stat -c '%u %#a %U %F' "${a[@]}" 2>/dev/null)
  done
  [[ $q =~ $UCI_RE_ABSOLUTE_PATH ]] || { echo "$1 root $2 resolves outside ABSOLUTE_PATH"; return 1; }
  echo "$q"
}
