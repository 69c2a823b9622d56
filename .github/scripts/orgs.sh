#!/usr/bin/env bash
# Lists the organisations to deploy, one per <dir>/<org>.json (example and schema excepted), as a JSON
# array on stdout. Each name must match the CLI's org regex (lib/config.ts ORG_NAME): a file name is
# anyone's input who can open a pull request, and it becomes a job name, a GitHub environment and an
# argument to cdk. A name that does not match fails the whole listing, loudly, instead of being skipped:
# an org that silently stops deploying is worse than a red run.
set -euo pipefail
export LC_ALL=C # [a-z] means a to z only, whatever the runner's locale

# Keep equal to ORG_NAME in lib/config.ts (test/lib/workflows.test.ts checks it).
ORG_NAME='^[a-z0-9][a-z0-9-]{0,30}$'

dir="${1:-config}"
[ -d "$dir" ] || { echo "::error::$0: no directory $dir" >&2; exit 1; }
names=()
bad=0
while IFS= read -r -d '' path; do
  file="${path##*/}"
  org="${file%.json}"
  if [[ "$org" =~ $ORG_NAME ]]; then
    names+=("$org")
  else
    # %q shows a name with control characters or quotes as a shell word, never interprets it.
    printf '::error::%s: the org name %q must be lowercase letters, digits and dashes (at most 31 characters)\n' \
      "$dir" "$org" >&2
    bad=1
  fi
done < <(find "$dir" -mindepth 1 -maxdepth 1 -name '*.json' ! -name example.json ! -name schema.json -print0)
[ "$bad" -eq 0 ] || exit 1

# Checked names are letters, digits and dashes: quoting them is all JSON needs (no jq on a developer's machine).
json=""
if [ "${#names[@]}" -gt 0 ]; then
  json=$(printf '%s\n' "${names[@]}" | sort | sed 's/.*/"&"/' | paste -sd, -)
fi
echo "[$json]"
