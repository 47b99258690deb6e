# Rows for the sweep: the unidesk-ci namespaces (docs/runner.md#the-sweep-every-run-ends-even-after-a-crash):
# name, run id, keep-namespace annotation, terminating|active, manifest commit, runner instance, as TSV (jq -r).
# Input: `kubectl get namespaces -l … -o json`; anything else (a Status) is an error, never no rows.
(if (.items | type) == "array" then .items[] else error("not a list") end) | [.metadata.name, .metadata.labels["unidesk.ci/run-id"],
(.metadata.annotations["unidesk.ci/keep-namespace"] // ""),
(if .metadata.deletionTimestamp != null or .status.phase == "Terminating" then "terminating" else "active" end),
(.metadata.labels["unidesk.ci/manifest-commit"] // ""), (.metadata.annotations["unidesk.ci/runner-instance"] // "")] | @tsv
