# deploy.json: checks that need jq, and the services (docs/runner.md#contract): `problem<TAB><text>` or
# `service<TAB><index><TAB><id><TAB><repo><TAB><commitId>` lines (jq -r); the runner checks the values in bash.
# Input: deploy.json. Args: --argjson maxDepth <MANIFEST_MAX_DEPTH> --argjson maxServices <SERVICES_MAX>.
def depth: if type == "object" or type == "array" then 1 + ([.[] | depth] | max // 0) else 0 end;
def text: if type == "string" then . else "" end;
if type != "object" then "problem\tdeploy.json must be a JSON object"
elif depth > $maxDepth then "problem\tdeploy.json nests \(depth) levels deep; at most \($maxDepth) are accepted"
elif .schemaVersion != 2 then "problem\tschemaVersion must be 2 (this runner reads deploy.json schema version 2)"
elif (.environments | type) != "object" or (.environments.dev | type) != "object" then "problem\tenvironments.dev is missing"
elif (.environments.dev.services | type) != "array" then "problem\tenvironments.dev.services must be an array of { id, repo, commitId }"
elif (.environments.dev.services | length) > $maxServices then
  "problem\tenvironments.dev.services has \(.environments.dev.services | length) entries; at most \($maxServices) are accepted"
else .environments.dev.services | to_entries[] | .key as $i | .value |
  if type != "object" then "problem\tenvironments.dev.services[\($i)] must be an object { id, repo, commitId }"
  else ["service", $i, (.id | text), (.repo | text), (.commitId | text)] | @tsv end
end
