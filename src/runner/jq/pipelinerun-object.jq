# The PipelineRun unidesk-ci/e2e-<runId> (docs/runner.md#what-it-does), built from deploy.json itself (jq -c).
# Input: deploy.json. Args: --arg name, ns, pipeline, sa, run, sha, tmpns, keep, timeout; --slurpfile meta (labels,
# annotations).
[.environments.dev.services[] | {id, repo, commitId}] as $services |
{apiVersion: "tekton.dev/v1", kind: "PipelineRun",
 metadata: {name: $name, namespace: $ns, labels: $meta[0].labels, annotations: $meta[0].annotations},
 spec: {
   pipelineRef: {name: $pipeline},
   params: ([
     {name: "run-id", value: $run},
     {name: "manifest-commit", value: $sha},
     {name: "temporary-namespace", value: $tmpns},
     {name: "keep-namespace", value: $keep},
     {name: "dev-services", value: ($services | tojson)}
   ] + [$services[] | {name: ("service-" + .id + "-commit"), value: .commitId}]),
   timeouts: {pipeline: $timeout},
   taskRunTemplate: {serviceAccountName: $sa}
 }}
