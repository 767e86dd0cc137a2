//! Abuse resistance: rate limits by Cognito quota category, per pool and per source IP; slow
//! and bloated clients cut off by the HTTP limits.

use std::io::{Read as _, Write as _};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

use cognate_host::config::ServeArgs;
use serde_json::json;

use crate::harness::Host;

/// How many one-byte writes a slow client gets before the test gives up on the server
/// (at 50 ms each: a minute). The server's limit is half a second.
const PATIENCE: usize = 1200;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rate_limits_answer_too_many_requests_per_pool_and_per_ip() {
    // About one request per hour: the test cannot refill a bucket.
    let host = Host::start(
        "[rate_limits.per_pool]\nUserCreation = 0.0003\n[rate_limits.per_ip]\nUserAuthentication = 0.0003\n",
        ServeArgs::default(),
    )
    .await;
    let mut clients = Vec::new();
    for name in ["a", "b"] {
        let pool = host
            .admin_ok("CreateUserPool", &json!({"PoolName": name}))
            .await;
        let pool_id = pool["UserPool"]["Id"].as_str().unwrap().to_owned();
        let client = host
            .admin_ok(
                "CreateUserPoolClient",
                &json!({"UserPoolId": pool_id, "ClientName": "app",
                        "ExplicitAuthFlows": ["ALLOW_USER_PASSWORD_AUTH", "ALLOW_REFRESH_TOKEN_AUTH"]}),
            )
            .await;
        clients.push(
            client["UserPoolClient"]["ClientId"]
                .as_str()
                .unwrap()
                .to_owned(),
        );
    }
    let sign_up = |client: &str, name: &str| json!({"ClientId": client, "Username": name, "Password": "Passw0rd!long"});
    let (status, body) = host.public("SignUp", &sign_up(&clients[0], "one")).await;
    assert_eq!(status, 200, "{body}");
    // The pool's UserCreation bucket is empty ...
    let (status, body) = host.public("SignUp", &sign_up(&clients[0], "two")).await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["__type"], "TooManyRequestsException", "{body}");
    // ... the other pool's is not, and other categories are not limited per pool.
    let (status, body) = host.public("SignUp", &sign_up(&clients[1], "two")).await;
    assert_eq!(status, 200, "{body}");
    let (status, body) = host
        .admin(
            "AdminCreateUser",
            &json!({"UserPoolId": "us-east-1_nosuchpoo", "Username": "x"}),
        )
        .await;
    assert_ne!(
        body["__type"], "TooManyRequestsException",
        "{status} {body}"
    );
    // Nothing was created past the limit.
    let (_, body) = host
        .public(
            "InitiateAuth",
            &json!({"ClientId": clients[0], "AuthFlow": "USER_PASSWORD_AUTH",
                    "AuthParameters": {"USERNAME": "two", "PASSWORD": "Passw0rd!long"}}),
        )
        .await;
    assert_ne!(body["__type"], "TooManyRequestsException", "{body}");

    // UserAuthentication per IP: that sign-in used this address's one request, in any pool.
    let (status, body) = host
        .public(
            "InitiateAuth",
            &json!({"ClientId": clients[1], "AuthFlow": "USER_PASSWORD_AUTH",
                    "AuthParameters": {"USERNAME": "two", "PASSWORD": "Passw0rd!long"}}),
        )
        .await;
    assert_eq!(status, 400, "{body}");
    assert_eq!(body["__type"], "TooManyRequestsException", "{body}");
    // The token endpoint: 429 and an OAuth-style error.
    let response = reqwest::Client::new()
        .post(format!("{}/oauth2/token", host.base))
        .header("content-type", "application/x-www-form-urlencoded")
        .body(format!(
            "grant_type=authorization_code&client_id={}&code=x&redirect_uri=http://localhost/cb",
            clients[1]
        ))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status().as_u16(), 429);
    assert_eq!(response.headers()["retry-after"], "1");
    let body: serde_json::Value = response.json().await.unwrap();
    assert_eq!(body["error"], "too_many_requests", "{body}");
}

/// Sends `head` and then `trickle` one byte at a time (50 ms apart) until the server closes
/// the connection; `true` when it did before the test's patience ran out.
fn cut_off(addr: SocketAddr, head: &[u8], trickle: &[u8]) -> bool {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_millis(50)))
        .unwrap();
    stream.write_all(head).unwrap();
    let mut buf = [0u8; 4096];
    for i in 0..PATIENCE {
        let byte = trickle[i % trickle.len()];
        if stream.write_all(&[byte]).is_err() {
            return true;
        }
        match stream.read(&mut buf) {
            Ok(0) => return true,
            Ok(_) => {}
            Err(e)
                if e.kind() == std::io::ErrorKind::WouldBlock
                    || e.kind() == std::io::ErrorKind::TimedOut => {}
            Err(_) => return true,
        }
    }
    false
}

/// One request on a fresh connection: the status line's code.
fn status_of(addr: SocketAddr, request: &[u8]) -> u16 {
    let mut stream = TcpStream::connect(addr).unwrap();
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .unwrap();
    // The server may answer and close before it has read everything: ignore write errors.
    let _ = stream.write_all(request);
    let mut answer = Vec::new();
    let mut buf = [0u8; 4096];
    while !answer.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut buf) {
            Ok(0) | Err(_) => break,
            Ok(n) => answer.extend_from_slice(&buf[..n]),
        }
    }
    let text = String::from_utf8_lossy(&answer);
    text.split(' ')
        .nth(1)
        .and_then(|code| code.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn slow_and_bloated_clients_are_cut_off() {
    let host = Host::start(
        "[http]\nheader_read_timeout_ms = 500\nbody_read_timeout_ms = 500\nmax_header_bytes = 8192\nmax_headers = 20\n",
        ServeArgs::default(),
    )
    .await;
    let addr = host.addr;
    tokio::task::spawn_blocking(move || {
        // A slowloris: a request head that never ends, one header byte at a time.
        assert!(
            cut_off(
                addr,
                b"GET /health HTTP/1.1\r\nHost: x\r\n",
                b"X-Slow: aaaaaaaa\r\n"
            ),
            "a slowloris kept its connection"
        );
        // A client that connects and sends nothing is cut off the same way.
        let mut idle = TcpStream::connect(addr).unwrap();
        idle.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut buf = [0u8; 64];
        match idle.read(&mut buf) {
            Ok(0) => {}
            Err(e)
                if e.kind() != std::io::ErrorKind::WouldBlock
                    && e.kind() != std::io::ErrorKind::TimedOut => {}
            other => panic!("a silent connection was not closed: {other:?}"),
        }
        // A kept-alive connection left idle after its answer is closed.
        let mut kept = TcpStream::connect(addr).unwrap();
        kept.write_all(b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
            .unwrap();
        kept.set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut answer = Vec::new();
        let closed = loop {
            match kept.read(&mut buf) {
                Ok(0) => break true,
                Ok(n) => answer.extend_from_slice(&buf[..n]),
                Err(_) => break false,
            }
        };
        assert!(
            String::from_utf8_lossy(&answer).starts_with("HTTP/1.1 200"),
            "{answer:?}"
        );
        assert!(closed, "an idle kept-alive connection stayed open");
        // A body that stops arriving: 408 with the JSON error.
        let mut stalled = TcpStream::connect(addr).unwrap();
        stalled
            .write_all(
                b"POST / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-amz-json-1.1\r\n\
                  X-Amz-Target: AWSCognitoIdentityProviderService.SignUp\r\n\
                  Content-Length: 100\r\n\r\n{\"ClientId\"",
            )
            .unwrap();
        stalled
            .set_read_timeout(Some(Duration::from_secs(60)))
            .unwrap();
        let mut answer = Vec::new();
        while let Ok(n) = stalled.read(&mut buf) {
            if n == 0 {
                break;
            }
            answer.extend_from_slice(&buf[..n]);
            if answer
                .windows(25)
                .any(|w| w == b"RequestTimeoutException\"")
            {
                break;
            }
        }
        let answer = String::from_utf8_lossy(&answer);
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(answer.contains("RequestTimeoutException"), "{answer}");

        // Too many headers, or too many header bytes: 431.
        let mut many = String::from("GET /health HTTP/1.1\r\nHost: x\r\n");
        for i in 0..40 {
            many.push_str(&format!("X-H{i}: v\r\n"));
        }
        many.push_str("\r\n");
        assert_eq!(status_of(addr, many.as_bytes()), 431);
        let big = format!(
            "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: {}\r\n\r\n",
            "a".repeat(16 * 1024)
        );
        assert_eq!(status_of(addr, big.as_bytes()), 431);
        // And the server still serves everyone else.
        assert_eq!(
            status_of(
                addr,
                b"GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
            ),
            200
        );
    })
    .await
    .unwrap();
}
