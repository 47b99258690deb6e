# progress.json: body (docs/runner.md#live-progress-progressjson-and-pods-streaming), without updatedAt.
# Input (jq -s): the objects of the run in unidesk-ci and the pods of the temporary namespace, two `kubectl get -o json` lists.
# Args: --arg run <runId> --arg sha <manifestCommit> --arg started <ISO> --arg pr <PipelineRun name>.
def cond: [.status.conditions[]? | select(.type == "Succeeded")][0] // {};
def short: if type == "string" then .[0:500] else null end;
[.[].items[]] as $all
| ([$all[] | select(.kind == "PipelineRun" and .metadata.name == $pr)][0]) as $p
| {runId: $run, manifestCommit: $sha, startedAt: $started,
   pipelineRun: (if $p == null then null else ($p | cond) as $c
     | {name: $pr, status: ($c.status // "Unknown"), reason: ($c.reason // ""), message: ($c.message | short),
        startTime: $p.status.startTime, completionTime: $p.status.completionTime} end),
   tasks: [($p.status.pipelineSpec // {}) | ((.tasks // []) + (.finally // []))[] | .name],
   taskRuns: ([$all[] | select(.kind == "TaskRun") | cond as $c
     | {name: .metadata.name, pipelineTask: (.metadata.labels["tekton.dev/pipelineTask"] // ""),
        status: ($c.status // "Unknown"), reason: ($c.reason // ""), message: ($c.message | short),
        startTime: .status.startTime, completionTime: .status.completionTime, pod: .status.podName}]
     | sort_by(.startTime // "", .name)),
   pods: [$all[] | select(.kind == "Pod") | .metadata as $m
     | {namespace: $m.namespace, name: $m.name, phase: .status.phase,
        containers: [((.status.initContainerStatuses // []) + (.status.containerStatuses // []))[]
          | {name, state: ((.state // {}) | keys[0] // "waiting"), log: "pods/\($m.name)_\(.name).log"}]}]}
