#!/usr/bin/env bash
# A `date` whose clock runs FAST_CLOCK_RATE times faster than real time from FAST_CLOCK_ORIGIN_S on,
# so the runner's own deadline (--timeout-ms, at least a minute) passes in seconds. Put first on PATH
# as `date`; FAST_CLOCK_REAL_DATE is the real one.
set -euo pipefail
real=${FAST_CLOCK_REAL_DATE:-/usr/bin/date}
now_ns=$("$real" +%s%N)
origin_ns=$((FAST_CLOCK_ORIGIN_S * 1000000000))
fake_ns=$((origin_ns + (now_ns - origin_ns) * FAST_CLOCK_RATE))
exec "$real" -d "@$((fake_ns / 1000000000)).$(printf '%09d' $((fake_ns % 1000000000)))" "$@"
