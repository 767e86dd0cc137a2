//! `fakecloud-cognito-bench <port>`: fakecloud 0.51's Cognito user-pool service on
//! 127.0.0.1:<port>, behind `fakecloud_core::dispatch::dispatch` as in fakecloud's `main.rs`
//! (same registry and dispatch configuration defaults: no SigV4 verification, IAM off), with
//! no persistence and no trigger delivery. Prints `ready` once it listens.
use std::net::SocketAddr;
use std::sync::Arc;

use axum::{Extension, Router};
use fakecloud_core::dispatch::{self, DispatchConfig};
use fakecloud_core::multi_account::MultiAccountState;
use fakecloud_core::registry::ServiceRegistry;

const ACCOUNT: &str = "123456789012";
const REGION: &str = "us-east-1";

#[tokio::main]
async fn main() {
    let port: u16 = std::env::args()
        .nth(1)
        .and_then(|p| p.parse().ok())
        .expect("usage: fakecloud-cognito-bench <port>");
    let endpoint = format!("http://127.0.0.1:{port}");
    let state = Arc::new(parking_lot::RwLock::new(MultiAccountState::new(
        ACCOUNT, REGION, &endpoint,
    )));
    let mut registry = ServiceRegistry::new();
    registry.register(Arc::new(fakecloud_cognito::CognitoService::new(state)));
    let app = Router::new()
        .fallback(dispatch::dispatch)
        .layer(Extension(Arc::new(registry)))
        .layer(Extension(Arc::new(DispatchConfig::new(REGION, ACCOUNT))));
    let listener = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .expect("bind");
    println!("ready");
    axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .await
    .expect("serve");
}
