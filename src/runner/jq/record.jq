# result.json: `failures` and `phases` (docs/runner.md#failures, #phases), fitted into the budget: two lines of
# compact JSON, the failures then the phases. Input: none (jq -n). Args: --slurpfile failures (the output of failures.jq),
# --slurpfile tails (one {log, tail} per failure), --slurpfile pr (pipelinerun.json), --slurpfile trs (taskruns.json),
# --rawfile own (the phases of the runner: name<TAB>start<TAB>end lines), --argjson created <bool>, --argjson n
# <FAILURES_MAX>, --argjson budget <bytes>, --arg iso <ISO_TIME_RE>.
def cond: [.status.conditions[]? | select(.type == "Succeeded")][0] // {};
def time: if type == "string" and test($iso) then . else null end;
def stopped: (cond) as $c | ($c.status != "True" and $c.status != "False")
  or (($c.reason // "") | IN("TaskRunCancelled", "Cancelled", "PipelineRunCancelled", "StoppedRunFinally", "CancelledRunFinally", "PipelineRunTimeout"));
def ended: if stopped then null else (.status.completionTime | time) end;
def size: tojson | utf8bytelength;
def fit($b): if size <= $b or (.tail | length) == 0 then . else .tail |= .[1:] | fit($b) end;
($pr[0] | if .kind == "PipelineRun" then . else null end) as $p
| [$own | split("\n")[] | select(. != "") | split("\t") | {name: .[0], startedAt: (.[1] | time), finishedAt: (.[2] | time)}
   | if .name != "pipelinerun" or ($created | not) then .
     elif $p == null then .finishedAt = null
     else .startedAt = (($p.status.startTime | time) // ($p.metadata.creationTimestamp | time) // .startedAt) | .finishedAt = ($p | ended) end
   | select(.startedAt != null)] as $runner
| [$p.status.pipelineSpec? // {} | (.tasks // []) + (.finally // []) | .[].name?] as $declared
| [$trs[0].items[]? | (.metadata.labels["tekton.dev/pipelineTask"] // .metadata.name) as $task
   | {name: "task:\($task)", declared: ($declared | index([$task]) // 1e9),
    startedAt: ((.status.startTime | time) // (.metadata.creationTimestamp | time)), finishedAt: ended}
   | select(.startedAt != null)] | sort_by(.startedAt, .finishedAt // "~", .declared, .name) | map(del(.declared)) as $tasks
| ($runner | map(select(.name != "logs"))) + $tasks + ($runner | map(select(.name == "logs")))
| until(length == 0 or size <= ($budget / 4 | floor); .[:-1]) as $phases
| ($budget - ($phases | size)) as $rest
| [$failures[0][:$n] | to_entries[] | .value + ($tails[.key] // {log: null, tail: []})] as $all
| ($rest / ([$all | length, 1] | max) | floor) as $each
| [$all[] | fit($each)] | until(length == 0 or size <= $rest; .[:-1])
| tojson, ($phases | tojson)
