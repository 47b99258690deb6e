# "b64:<base64 of at most cap ($2) leading bytes of file $1>", or "-" when it is absent, a symlink, unreadable or
# not this user's.
uci_file_field() {
  local data
  [[ -f $1 && ! -L $1 && -O $1 ]] || { printf -- '-'; return; }
  data=$(head -c "$2" -- "$1" | base64 -w0) || { printf -- '-'; return; }
  printf 'b64:%s' "$data"
}
