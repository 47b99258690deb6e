# result.json as one record, judged by the CLI (src/host/result.ts): "result\tb64:<its first UCI_RESULT_CAP
# bytes>\t<size>", "result\t-\t0" when there is none, "result\t!\t0" when it is no readable regular file;
# another user's is unsafe (uci_own_file).
uci_result_record() {
  local f=$1/@@=RESULT_FILE@@ data size
  uci_own_file "$f"
  if [[ ! -e $f && ! -L $f ]]; then
    printf 'result\t-\t0\n'
  elif [[ -f $f && ! -L $f ]] && size=$(stat -c %s -- "$f" 2>/dev/null) &&
    data=$(head -c "$UCI_RESULT_CAP" -- "$f" 2>/dev/null | base64 -w0); then
    printf 'result\tb64:%s\t%s\n' "$data" "$size"
  else
    printf 'result\t!\t0\n'
  fi
}
