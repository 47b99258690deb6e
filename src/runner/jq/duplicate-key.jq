# The first key deploy.json repeats in one object, at any depth: `duplicate key "<k>" at <path>` (jq -r), nothing
# when none does (docs/runner.md#hostile-input). Input: jq -n --stream (the raw events, before a parser keeps one of
# the two values).
def where: if length == 0 then "." else map(if type == "number" then "[\(.)]" elif test("^[A-Za-z_][A-Za-z0-9_]*$") then ".\(.)" else "[\(tojson)]" end) | join("") end;
reduce inputs as $e ({s: {}, dup: null};
  if .dup != null then . else
    $e[0] as $p | ($p | length) as $n |
    reduce range(0; if ($e | length) == 2 then $n else $n - 1 end) as $i (.;
      if .dup != null or ($p[$i] | type) != "string" then . else
        ($p[0:$i] | tojson) as $c | $p[$i] as $k |
        if .s[$c].cur == $k then .
        elif .s[$c].keys[$k] == true then .dup = "duplicate key \($k[0:100] | tojson) at \($p[0:$i] | where)"
        else .s[$c].keys[$k] = true | .s[$c].cur = $k end
      end)
    | if ($e | length) == 2 then (if $n > 0 then .s[$p[0:$n - 1] | tojson].cur = null else . end)
      else $p[0:$n - 1] as $q | del(.s[$q | tojson]) | (if $n > 1 then .s[$q[0:-1] | tojson].cur = null else . end) end
  end)
| .dup // empty
