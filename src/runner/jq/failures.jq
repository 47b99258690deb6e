# The failed steps of a run (docs/runner.md#failures), in TaskRun start order, without their log tails.
# Input: taskruns.json (a `kubectl get taskruns -o json` list). Args: --argjson max <FAILURE_LINE_MAX_CHARS>.
def cond: [.status.conditions[]? | select(.type == "Succeeded")][0] // {};
def text: if type == "string" then . else "" end;
# Tekton's words as one line, as one_line/json_str keep every other string of result.json (docs/security.md): C0
# controls (newlines too), DEL, LS and PS become spaces; C1 controls and bidi overrides/isolates go.
def cut: text | .[0:$max] | explode
  | map(if . < 32 or . == 127 or . == 8232 or . == 8233 then 32
        elif (. >= 128 and . < 160) or (. >= 8234 and . <= 8238) or (. >= 8294 and . <= 8297) then empty else . end)
  | implode;
[.items[]? | select(.kind == null or .kind == "TaskRun") | cond as $c
 | select($c.status == "False" and ($c.reason | text) != "TaskRunCancelled")
 | (.metadata.labels["tekton.dev/pipelineTask"] // .metadata.name | text) as $task
 | (.status.podName | text) as $pod | (.status.startTime | text) as $at | (.status.completionTime // "~" | text) as $done
 | [.status.steps[]? | select(type == "object" and (.terminated | type) == "object"
     and (.terminated.exitCode | type) == "number" and .terminated.exitCode != 0 and .terminationReason != "Skipped")] as $failed
 | if ($failed | length) > 0 then $failed[]
     | ((.container | text) as $k | if $k != "" then $k else "step-\(.name | text)" end) as $container
     | {at: $at, done: $done, task: $task, step: ((.name | text) as $n | if $n != "" then $n else ($container | ltrimstr("step-")) end),
        exitCode: .terminated.exitCode, reason: ((.terminated.reason | text) as $r | if $r != "" then $r else $c.reason end | cut),
        message: (if ($failed | length) == 1 or ($c.message | text | contains("\"\($container)\"")) then $c.message | cut
                  else "\"\($container)\" exited with code \(.terminated.exitCode)" end),
        log: (if $pod != "" then "pods/\($pod)_\($container).log" else null end)}
   else {at: $at, done: $done, task: $task, step: null, exitCode: null, reason: ($c.reason | cut), message: ($c.message | cut), log: null} end]
| sort_by(.at, .done) | map(del(.at, .done))
