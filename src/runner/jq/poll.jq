# One poll of the run (docs/runner.md#live-progress-progressjson-and-pods-streaming), as lines (jq -r -s):
#   1. the PipelineRun's Succeeded condition: status, reason (<= 100 chars), message (<= 500) as TSV; `-` when the
#      PipelineRun is not in the list, `!` when the one of that name is not the one created (its uid is not $uid);
#   2. progress.json's body without updatedAt, compact JSON;
#   3. ... one TSV row `namespace pod container` per container running or terminated (its log can be streamed).
# Input (jq -s): the objects of the run in unidesk-ci and the pods of the temporary namespace, two `kubectl get -o json` lists.
# Args: --arg run <runId> --arg sha <manifestCommit> --arg started <ISO> --arg pr <PipelineRun name> --arg uid <its uid>.
def cond: [.status.conditions[]? | select(.type == "Succeeded")][0] // {};
def short: if type == "string" then .[0:500] else null end;
def text($n): if type == "string" then .[0:$n] elif . == null then "" else tojson | .[0:$n] end;
[.[].items[]] as $all
| ([$all[] | select(.kind == "PipelineRun" and .metadata.name == $pr)][0]) as $named
# Only the PipelineRun this run created (its uid) is this run's: one put in its place under the same name is `!`.
| (if $named != null and $named.metadata.uid == $uid then $named else null end) as $p
| (if $named == null then "-" elif $p == null then "!"
   else ($p | cond) | [(.status // "Unknown" | text(20)), (.reason | text(100)), (.message | text(500))] | @tsv end),
  ({runId: $run, manifestCommit: $sha, startedAt: $started,
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
            | {name, state: ((.state // {}) | keys[0] // "waiting"), log: "pods/\($m.name)_\(.name).log"}]}]} | tojson),
  ([$all[] | select(.kind == "Pod")][] | .metadata as $m
   | ((.status.initContainerStatuses // []) + (.status.containerStatuses // []))[]
   | select(.state.running != null or .state.terminated != null) | [$m.namespace, $m.name, .name] | @tsv)
