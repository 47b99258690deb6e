# "b64:<base64 of at most cap ($2) leading bytes of file $1>", or "-" when it is absent, a symlink or unreadable.
uci_file_field() {
  local data
  [[ -f $1 && ! -L $1 ]] || { printf -- '-'; return; }
  data=$(head -c "$2" -- "$1" | base64 -w0) || { printf -- '-'; return; }
  printf 'b64:%s' "$data"
}
