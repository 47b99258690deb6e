# The runs root by its canonical path, as the launcher writes it into its and the runner's command lines: the
# liveness rule compares those as text, so a symlinked root must not make a live run look lost.
UCI_RUNS_ROOT=$(realpath -m -- "$UCI_RUNS_ROOT")
