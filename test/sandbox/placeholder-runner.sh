#!/usr/bin/env bash
# Placeholder runner for sandbox self-tests (startSandbox({ runner: "placeholder" })): it keeps
# the runner contract's arguments and files but creates nothing in Kubernetes. The real runner
# is scripts/ci/dev-e2e.sh.
set -euo pipefail
run_id='' manifest_commit='' result_dir='' manifest_file=''
while (($# > 0)); do
  case $1 in
    --run-id) run_id=$2; shift 2 ;;
    --manifest-commit) manifest_commit=$2; shift 2 ;;
    --result-dir) result_dir=$2; shift 2 ;;
    --manifest-file) manifest_file=$2; shift 2 ;;
    --repo-url | --desired-ref | --environment | --timeout-ms) shift 2 ;;
    --keep-namespace) shift ;;
    *) echo "placeholder runner: unknown argument $1" >&2; exit 2 ;;
  esac
done
exec >>"$result_dir/runner.log" 2>&1
echo "$(date -u +%FT%TZ) placeholder runner for $run_id at $manifest_commit"
jq -e '.schemaVersion == 2' "$manifest_file" >/dev/null
printf '%s\n' "$$" >"$result_dir/runner.pid"
printf 'e2e-%s\n' "$run_id" >"$result_dir/pipelinerun.txt"
now=$(date -u +%FT%TZ)
jq -n --arg runId "$run_id" --arg commit "$manifest_commit" --arg now "$now" \
  '{ok: true, status: "succeeded", runId: $runId, manifestCommit: $commit, pipelineRun: ("e2e-" + $runId),
    temporaryNamespace: ("unidesk-ci-" + $runId), startedAt: $now, finishedAt: $now, durationMs: 0,
    reason: "placeholder runner", writer: "runner"}' >"$result_dir/.result.json.tmp"
mv "$result_dir/.result.json.tmp" "$result_dir/result.json"
echo "$(date -u +%FT%TZ) done"
