#!/usr/bin/env bash
# Builds the edge Worker and runs it locally under `wrangler dev --local` (workerd, Durable
# Objects and KV simulated on disk) on 127.0.0.1, with a demo pool. Ctrl-C stops it.
#   COGNATE_EDGE_PORT (default 8787), COGNATE_EDGE_DATA (default edge/.wrangler/state)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
scripts/setup-edge.sh
edge/build.sh
# shellcheck source=scripts/edge-env.sh
source scripts/edge-env.sh

port="${COGNATE_EDGE_PORT:-8787}"
data="${COGNATE_EDGE_DATA:-$PWD/edge/.wrangler/state}"
mkdir -p "$data"
log="$data/wrangler.log"
trap stop_edge EXIT
trap 'exit 130' INT TERM
start_edge "$port" "$data" "$log"
url="http://127.0.0.1:$port"
demo="$(curl -fsS -X POST -H "x-cognate-test-key: $COGNATE_TEST_KEY" "$url/__cognate/test/demo")"
pool="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["pool_id"])' "$demo")"
client="$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["client_id"])' "$demo")"
id="$COGNATE_ADMIN_ACCESS_KEY_ID"
secret="$COGNATE_ADMIN_SECRET_ACCESS_KEY"
region=us-east-1
cat <<BANNER
Cognate (edge) is running under wrangler dev --local.
Endpoint: $url
Durable Objects and KV persisted in: $data
Runtime log: $log
Region: $region
Admin access key id: $id
Admin secret access key: $secret
Demo user pool id: $pool
Demo app client id: $client

Try it with the AWS CLI:
  export AWS_ACCESS_KEY_ID=$id AWS_SECRET_ACCESS_KEY='$secret' AWS_REGION=$region AWS_DEFAULT_REGION=$region
  aws cognito-idp list-user-pools --max-results 10 --endpoint-url $url
  aws cognito-idp sign-up --client-id $client --username alice --password 'Passw0rd!' --user-attributes Name=email,Value=alice@example.com --endpoint-url $url
  # the confirmation code: curl -H 'x-cognate-test-key: $COGNATE_TEST_KEY' '$url/__cognate/test/outbox?pool=$pool'
  aws cognito-idp confirm-sign-up --client-id $client --username alice --confirmation-code CODE --endpoint-url $url
  aws cognito-idp initiate-auth --client-id $client --auth-flow USER_PASSWORD_AUTH --auth-parameters USERNAME=alice,PASSWORD='Passw0rd!' --endpoint-url $url
BANNER
wait "$EDGE_PID"
