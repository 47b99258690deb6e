# Shared by the fixed readers (included where a template says `# include pid-state.sh`): process liveness
# from a pid file, with bash builtins only. A zombie (exited, not yet reaped) counts as dead.
uci_is_alive() {
  local stat
  if [[ -r /proc/$1/stat ]]; then
    IFS= read -r stat <"/proc/$1/stat" 2>/dev/null || return 1
    stat=${stat##*) }
    [[ ${stat:0:1} != Z ]]
  else
    kill -0 "$1" 2>/dev/null
  fi
}

# "<pid>\t<alive|dead>" from a pid file, or "-\tnone".
uci_pid_field() {
  local pid=""
  [[ -f $1 ]] && IFS= read -r -n 32 pid <"$1" 2>/dev/null
  pid=${pid//[!0-9]/}
  if [[ -z $pid ]]; then
    printf -- '-\tnone'
  elif uci_is_alive "$pid"; then
    printf '%s\talive' "$pid"
  else
    printf '%s\tdead' "$pid"
  fi
}
