#!/usr/bin/env bash
# Runs the Python client journeys against the running Cognate that the environment names (the
# contract is in scripts/test-clients.sh): each prints its steps and "<journey>: N steps passed".
# Exits non-zero if any journey failed, after running them all. Pass journey file names to run
# only those.
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"

"$here/setup.sh"
eval "$("$here/setup.sh" --env)"
export PATH="$VENV/bin:$PATH"

# Nothing from this machine's AWS set-up leaks in, and no client looks for credentials
# anywhere but where the journey puts them (never the EC2 metadata address).
unset AWS_PROFILE AWS_DEFAULT_PROFILE AWS_SESSION_TOKEN AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY \
  AWS_ENDPOINT_URL AWS_ENDPOINT_URL_COGNITO_IDENTITY_PROVIDER AWS_CA_BUNDLE AWS_REGION AWS_DEFAULT_REGION \
  COGNITO_JWKS
export AWS_CONFIG_FILE=/dev/null AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_EC2_METADATA_DISABLED=true
export PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1

journeys=("$@")
if [ "${#journeys[@]}" -eq 0 ]; then
  journeys=(journey_awscli_readme.py journey_boto3_pycognito.py journey_pycognito_devices.py journey_authlib_oidc.py journey_mfa_pycognito.py journey_boto3_user_auth.py journey_boto3_import.py)
  # The identity-pools journey needs the STS the target was started with (moto).
  if [ -n "${COGNATE_STS_URL:-}" ]; then
    journeys+=(journey_boto3_identity.py)
  else
    echo "python clients: journey_boto3_identity.py skipped: COGNATE_STS_URL is not set (scripts/test-identity.sh runs it)"
  fi
fi
failed=()
for journey in "${journeys[@]}"; do
  "$PYTHON" "$here/$journey" || failed+=("$journey")
done
if [ "${#failed[@]}" -gt 0 ]; then
  echo "python clients (${COGNATE_TARGET_NAME:-$COGNATE_BASE_URL}): FAILED: ${failed[*]}" >&2
  exit 1
fi
echo "python clients (${COGNATE_TARGET_NAME:-$COGNATE_BASE_URL}): all ${#journeys[@]} journeys passed"
