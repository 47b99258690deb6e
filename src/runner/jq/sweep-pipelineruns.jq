# Rows for the sweep: the unidesk-ci PipelineRuns: name, run id, Succeeded status (Unknown when none), spec.status,
# manifest commit, runner instance, as TSV (jq -r). Input: `kubectl -n unidesk-ci get pipelineruns -l … -o json`; anything else
# (a Status) is an error, never no rows.
(if (.items | type) == "array" then .items[] else error("not a list") end) | [.metadata.name, .metadata.labels["unidesk.ci/run-id"],
(([.status.conditions[]? | select(.type == "Succeeded")][0].status) // "Unknown"), (.spec.status // ""),
(.metadata.labels["unidesk.ci/manifest-commit"] // ""), (.metadata.annotations["unidesk.ci/runner-instance"] // "")] | @tsv
