#!/usr/bin/env bash
# The whole test suite: what README.md tells a newcomer to run, and what CI (.ci/run) runs.
set -euo pipefail
cd "$(dirname "$0")/.."

# One target dir for the whole run: every artifact is built once. Every host-target cargo
# command of the tests (here and in scripts/test-edge.sh, scripts/test-postgres.sh) selects
# `--workspace` and the test profile, so features unify identically and the build of
# `cargo test --workspace --no-run` is reused as is (narrow with `--test NAME`, never `-p`).
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$PWD/target}"
export CARGO_TERM_COLOR="${CARGO_TERM_COLOR:-never}"

# Each step prints when it starts (seconds since the run began); the run ends with every step's
# duration, so a slow CI run shows which stage grew.
STEP_NAME="" STEP_START=$SECONDS STEP_TIMES=""
step() {
  finish_step
  STEP_NAME="$*" STEP_START=$SECONDS
  printf '\n==> [%ds] %s\n' "$SECONDS" "$*"
}
finish_step() {
  [ -z "$STEP_NAME" ] || STEP_TIMES+=$(printf '%6ds  %s' $((SECONDS - STEP_START)) "$STEP_NAME")$'\n'
}

step "setup"
scripts/setup.sh

step "format"
cargo fmt --all -- --check

step "lint"
cargo clippy --workspace --all-targets --locked -- -D warnings
# The core's modules form no cycle (top level, and siblings inside each module directory).
python3 scripts/module-graph.py >/dev/null
# The admin console's vendored files are exactly the pinned npm packages' files.
scripts/vendor-console.sh --check
# The core must stay no_std: check the exact build the edge and the Wasm host use.
cargo clippy -p cognate-core --no-default-features --target wasm32-unknown-unknown --locked -- -D warnings
# The core's Wasm guest (what `cognate serve --engine wasm` runs), for its real target.
cargo clippy -p cognate-core-guest --target wasm32-unknown-unknown --locked -- -D warnings

step "core for wasm32-unknown-unknown (no_std)"
cargo build -p cognate-core --no-default-features --target wasm32-unknown-unknown --locked

step "build the test binaries and the server the end-to-end scenarios start"
# `cargo test` builds each package's binaries for its integration tests: target/debug/cognate.
cargo test --workspace --no-run --locked

step "trigger plugins: the example plugins for wasm32-unknown-unknown (the scenarios load them)"
# Into <target>/wasm32-unknown-unknown/plugin/, where tests/src/plugins.rs looks for them.
cargo build --profile plugin --target wasm32-unknown-unknown --locked \
  -p cognate-example-pre-sign-up -p cognate-example-pre-token-generation \
  -p cognate-example-custom-auth -p cognate-example-user-migration \
  -p cognate-example-custom-message -p cognate-example-custom-sender \
  -p cognate-example-echo-event

# -- web-sdk (issue 7): the browser SDK -------------------------------------------------------
step "web-sdk: clippy for wasm32 (library and browser tests)"
cargo clippy -p cognate-web --target wasm32-unknown-unknown --all-targets --locked -- -D warnings

step "web-sdk: package build (195 KB gzipped budget), browser tests in headless Chromium, example page"
web-sdk/test.sh

step "tests: unit, storage contract (memory, SQLite), end-to-end scenarios (Wasm engine)"
cargo test --workspace --locked

step "tests: the end-to-end scenarios again on the native engine (the core linked into the host)"
# Same binaries, no rebuild: the harness's servers pass COGNATE_ENGINE through.
COGNATE_ENGINE=native cargo test --workspace --test e2e --locked

# -- the ecosystem's own clients (issue 15) --------------------------------------------------
step "clients: the model sweep, the AWS CLI (README), boto3 + pycognito, Authlib, amazon-cognito-identity-js, aws-jwt-verify, Amplify (Wasm engine)"
COGNATE_ENGINE=wasm scripts/with-host.sh scripts/test-clients.sh

step "clients: the same journeys on the native engine"
COGNATE_ENGINE=native scripts/with-host.sh scripts/test-clients.sh

# -- edge (issue 5): the Worker under a local Workers runtime ---------------------------------
step "edge: clippy for the Worker's target"
cargo clippy -p cognate-edge --target wasm32-unknown-unknown --locked -- -D warnings

step "edge: the same scenarios against the Worker under wrangler dev --local"
scripts/test-edge.sh

# -- delivery (issue 22): SMTP, SES, SNS and plugin deliveries to real servers ---------------
step "delivery: aiosmtpd (STARTTLS, AUTH), moto as SES and SNS, a plugin receiver; host and Worker"
scripts/test-delivery.sh --edge

# -- identity pools (issue 19): moto's STS behind GetCredentialsForIdentity ------------------
step "identity pools: moto as the STS; boto3, the AWS CLI, PyJWT, fromCognitoIdentityPool (both engines)"
scripts/test-identity.sh --engine wasm
scripts/test-identity.sh --engine native

# -- federation (issue 20): node oidc-provider as an upstream OpenID provider -----------------
step "federation: node oidc-provider as the upstream; Cognate registers, signs a user in (both engines, and the Worker)"
scripts/test-federation.sh --edge

# -- PostgreSQL (issue 21): the contract, the scenarios and two hosts on one database ---------
step "postgres: a throwaway PostgreSQL server; contract suite, scenarios, two hosts"
scripts/test-postgres.sh

# -- SAML (issue 20): pysaml2's IdP, the host's verifier (--features saml) and the core's checks
step "saml: pysaml2's IdP; genuine responses accepted once, forged ones (wrapped, modified, unsigned, foreign key, expired, replayed) refused"
scripts/test-saml.sh

finish_step
printf '\n==> all green in %ds; each step:\n%s' "$SECONDS" "$STEP_TIMES"
