//! What the check refuses, with AWS's answers: tampering, bad headers, scope, clock, keys;
//! and that garbage or huge input neither panics nor takes quadratic time.

use super::*;
use alloc::vec;
use sha2::{Digest, Sha256};

#[test]
fn rejects_a_tampered_request() {
    // Body, signed without x-amz-content-sha256.
    let form = &vector("post-x-www-form-urlencoded (2015 suite)");
    let mut request = vector_request(form);
    request.body = b"Param1=value2".to_vec();
    assert_error(
        verify_suite(&request),
        ErrorKind::InvalidSignature,
        MISMATCH,
    );

    // Body, signed with x-amz-content-sha256.
    let form = &vector("post-x-www-form-urlencoded");
    let mut request = vector_request(form);
    request.body = b"Param1=value2".to_vec();
    assert_error(
        verify_suite(&request),
        ErrorKind::InvalidSignature,
        "'x-amz-content-sha256' header does not match",
    );
    // ... also when the declared hash is changed to match the new body.
    let mut request = vector_request(form);
    request.body = b"Param1=value2".to_vec();
    for header in &mut request.headers {
        if header.0 == "x-amz-content-sha256" {
            header.1 = hex::encode(Sha256::digest(b"Param1=value2"));
        }
    }
    assert_error(
        verify_suite(&request),
        ErrorKind::InvalidSignature,
        MISMATCH,
    );
    // An unsigned payload is refused.
    let mut request = vector_request(form);
    for header in &mut request.headers {
        if header.0 == "x-amz-content-sha256" {
            header.1 = "UNSIGNED-PAYLOAD".to_string();
        }
    }
    assert_error(
        verify_suite(&request),
        ErrorKind::InvalidSignature,
        "Unsigned and streaming payloads",
    );

    // Method, path, query, a signed header, the date.
    let order = &vector("get-vanilla-query-order-key-case");
    let mut tampered = Vec::new();
    let mut request = vector_request(order);
    request.method = "POST".to_string();
    tampered.push(request);
    let mut request = vector_request(order);
    request.path = "/x".to_string();
    tampered.push(request);
    let mut request = vector_request(order);
    request.query = "Param2=value2&Param1=value2".to_string();
    tampered.push(request);
    let mut request = vector_request(order);
    request.query.push_str("&Param3=value3");
    tampered.push(request);
    let mut request = vector_request(order);
    request.headers[0].1 = "evil.example.com".to_string();
    tampered.push(request);
    let mut request = vector_request(order);
    request.headers[1].1 = "20150830T123601Z".to_string();
    tampered.push(request);
    let mut request = vector_request(&vector("get-header-value-order"));
    request.headers.swap(1, 2);
    tampered.push(request);
    for request in tampered {
        assert_error(
            verify_suite(&request),
            ErrorKind::InvalidSignature,
            MISMATCH,
        );
    }
}

#[test]
fn rejects_a_tampered_signature() {
    let vanilla = &vector("get-vanilla");
    let mut signature = vanilla.signature.to_string();
    signature.replace_range(63.., "0");
    for bad in [
        signature.as_str(),
        &vanilla.signature[..62],
        "",
        "zz",
        "0000000000000000000000000000000000000000000000000000000000000000",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf3g",
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31aa",
    ] {
        let request = with_authorization(
            vanilla,
            &authorization(
                "20150830/us-east-1/service/aws4_request",
                "host;x-amz-date",
                bad,
            ),
        );
        assert_error(
            verify_suite(&request),
            ErrorKind::InvalidSignature,
            MISMATCH,
        );
    }
}

#[test]
fn rejects_an_unknown_key_or_a_wrong_secret() {
    let request = vector_request(&vector("get-vanilla"));
    assert_error(
        verify(&request, "service", &keys()[..1], SUITE_NOW_MS),
        ErrorKind::UnrecognizedClient,
        INVALID_TOKEN,
    );
    assert_error(
        verify(&request, "service", &[], SUITE_NOW_MS),
        ErrorKind::UnrecognizedClient,
        INVALID_TOKEN,
    );
    let wrong_secret = [AdminKey {
        access_key_id: SUITE_KEY_ID.to_string(),
        secret_access_key: Secret::new("wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEZ"),
    }];
    assert_error(
        verify(&request, "service", &wrong_secret, SUITE_NOW_MS),
        ErrorKind::InvalidSignature,
        MISMATCH,
    );
}

#[test]
fn enforces_fifteen_minutes_of_clock_skew() {
    let request = vector_request(&vector("get-vanilla"));
    let fifteen_minutes = 15 * 60 * 1000;
    for now in [
        SUITE_NOW_MS - fifteen_minutes,
        SUITE_NOW_MS + fifteen_minutes,
        SUITE_NOW_MS + fifteen_minutes + 999,
    ] {
        assert!(verify(&request, "service", &keys(), now).is_ok(), "{now}");
    }
    assert_error(
        verify(
            &request,
            "service",
            &keys(),
            SUITE_NOW_MS + fifteen_minutes + 1000,
        ),
        ErrorKind::InvalidSignature,
        "Signature expired: 20150830T123600Z is now earlier than 20150830T123601Z \
         (20150830T125101Z - 15 min.)",
    );
    assert_error(
        verify(
            &request,
            "service",
            &keys(),
            SUITE_NOW_MS - fifteen_minutes - 1000,
        ),
        ErrorKind::InvalidSignature,
        "Signature not yet current: 20150830T123600Z is still later than 20150830T123559Z \
         (20150830T122059Z + 15 min.)",
    );
    for now in [0, u64::MAX] {
        assert_error(
            verify(&request, "service", &keys(), now),
            ErrorKind::InvalidSignature,
            "Signature",
        );
    }
}

#[test]
fn checks_the_credential_scope() {
    let vanilla = &vector("get-vanilla");
    let request = vector_request(vanilla);
    assert_error(
        verify(&request, "cognito-idp", &keys(), SUITE_NOW_MS),
        ErrorKind::InvalidSignature,
        "Credential should be scoped to correct service: 'cognito-idp'.",
    );
    for (scope, message) in [
        (
            "20150831/us-east-1/service/aws4_request",
            "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date \
             from HTTP: '20150831' != '20150830', from '20150830T123600Z'.",
        ),
        (
            "20150830/us-east-1/service/aws5_request",
            "Credential should be scoped with a valid terminator: 'aws4_request'.",
        ),
        (
            "20150830/us-east-1/service",
            "'Credential' parameter is malformed",
        ),
        (
            "20150830/us-east-1/service/aws4_request/x",
            "'Credential' parameter is malformed",
        ),
        (
            "2015083/us-east-1/service/aws4_request",
            "'Credential' parameter is malformed",
        ),
        (
            "20150830//service/aws4_request",
            "'Credential' parameter is malformed",
        ),
        (
            "20150830/us_east/service/aws4_request",
            "'Credential' parameter is malformed",
        ),
    ] {
        let request = with_authorization(
            vanilla,
            &authorization(scope, "host;x-amz-date", &vanilla.signature),
        );
        assert_error(verify_suite(&request), ErrorKind::InvalidSignature, message);
    }
}

#[test]
fn checks_the_signed_headers() {
    let vanilla = &vector("get-vanilla");
    let scope = "20150830/us-east-1/service/aws4_request";
    for (signed_headers, message) in [
        ("x-amz-date", "'Host' must be a signed header"),
        ("x-amz-date;host", "sorted and without duplicates"),
        ("host;host;x-amz-date", "sorted and without duplicates"),
        ("Host;x-amz-date", "sorted and without duplicates"),
        ("host;;x-amz-date", "sorted and without duplicates"),
        ("", "sorted and without duplicates"),
        (
            "host;x-amz-date;x-missing",
            "'x-missing' is listed in 'SignedHeaders'",
        ),
    ] {
        let request = with_authorization(
            vanilla,
            &authorization(scope, signed_headers, &vanilla.signature),
        );
        assert_error(verify_suite(&request), ErrorKind::InvalidSignature, message);
    }
}

#[test]
fn answers_as_aws_for_a_missing_or_malformed_header() {
    let vanilla = &vector("get-vanilla");
    let mut request = vector_request(vanilla);
    request.headers.retain(|(name, _)| name != "authorization");
    assert_error(
        verify_suite(&request),
        ErrorKind::UnrecognizedClient,
        MISSING_TOKEN,
    );
    assert_error(
        verify_suite(&request.clone().with_header("authorization", "  ")),
        ErrorKind::UnrecognizedClient,
        MISSING_TOKEN,
    );
    for (value, message) in [
        (
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date",
            "Authorization header requires 'Signature' parameter.",
        ),
        (
            "AWS4-HMAC-SHA256",
            "Authorization header requires 'Credential' parameter. Authorization header \
             requires 'Signature' parameter. Authorization header requires 'SignedHeaders' \
             parameter.",
        ),
        ("Bearer abc", "algorithm must be 'AWS4-HMAC-SHA256'"),
        (
            "AWS4-HMAC-SHA1 Credential=x",
            "algorithm must be 'AWS4-HMAC-SHA256'",
        ),
        ("AWS4-HMAC-SHA256 Credential", "'name=value'"),
        (
            "AWS4-HMAC-SHA256 Signature=a, Signature=b, Credential=c, SignedHeaders=host",
            "more than one 'Signature' parameter",
        ),
    ] {
        assert_error(
            verify_suite(&with_authorization(vanilla, value)),
            ErrorKind::InvalidSignature,
            message,
        );
    }
    let twice = vector_request(vanilla).with_header("Authorization", "AWS4-HMAC-SHA256");
    assert_error(
        verify_suite(&twice),
        ErrorKind::InvalidSignature,
        "exactly one 'Authorization' header",
    );

    let mut undated = vector_request(vanilla);
    undated.headers.retain(|(name, _)| name != "x-amz-date");
    assert_error(
        verify_suite(&undated),
        ErrorKind::InvalidSignature,
        "requires existence of either a 'X-Amz-Date' or a 'Date' header",
    );
    for date in [
        "2015-08-30T12:36:00Z",
        "20150830T123600",
        "20150830T246000Z",
        "20150230T123600Z",
        "2015083OT123600Z",
        "+0150830T123600Z",
        "",
    ] {
        let mut request = vector_request(vanilla);
        request.headers[1].1 = date.to_string();
        assert_error(
            verify_suite(&request),
            ErrorKind::InvalidSignature,
            "basic format",
        );
    }
}

#[test]
fn reads_the_credential_region() {
    let request = vector_request(&vector("get-vanilla"));
    assert_eq!(credential_region(&request), Some("us-east-1".to_string()));
    // Not verified: a bad signature or date does not matter.
    let partial = Request::new("POST", "/").with_header(
        "Authorization",
        "AWS4-HMAC-SHA256 Credential=AKID/20200101/ap-southeast-2/cognito-idp/aws4_request",
    );
    assert_eq!(
        credential_region(&partial),
        Some("ap-southeast-2".to_string())
    );
    for value in [
        "AWS4-HMAC-SHA256 SignedHeaders=host, Signature=00",
        "AWS4-HMAC-SHA256 Credential=AKID/20200101/eu west/cognito-idp/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKID/20200101//cognito-idp/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKID/20200101/<script>/cognito-idp/aws4_request",
        "AWS4-HMAC-SHA256 Credential=AKID/eu-west-1",
        "Basic dXNlcjpwYXNz",
        "",
    ] {
        let request = Request::new("POST", "/").with_header("authorization", value);
        assert_eq!(credential_region(&request), None, "{value}");
    }
    assert_eq!(credential_region(&Request::new("POST", "/")), None);
}

/// Never panics, whatever the input: truncations of a valid header, non-ASCII, garbage.
#[test]
fn survives_garbage() {
    let good = vector_request(&vector("post-x-www-form-urlencoded"));
    let authorization = good.header("authorization").unwrap_or_default().to_string();
    let mut values: Vec<String> = authorization
        .char_indices()
        .map(|(i, _)| authorization[..i].to_string())
        .collect();
    values.extend(
        [
            "AWS4-HMAC-SHA256 Credential=é/ü/ß/ñ/ø, SignedHeaders=é;ü, Signature=ééééé",
            "AWS4-HMAC-SHA256 Credential=////, SignedHeaders=;;;, Signature====",
            "AWS4-HMAC-SHA256 ,,,,,,= = = ,",
            "AWS4-HMAC-SHA256\u{0}Credential=\u{0}",
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date;\u{1F600}, Signature=00",
            "\u{feff}AWS4-HMAC-SHA256",
            "AWS4-HMAC-SHA256\u{a0}Credential=x",
        ]
        .map(str::to_string),
    );
    let dates = [
        SUITE_DATE,
        "",
        "ééééééééééééééé",
        "2015083€T12360",
        "99999999T999999Z",
        "00000000T000000Z",
        "00010101T000000Z",
    ];
    let paths = [
        "/",
        "",
        "%",
        "/%",
        "/%e",
        "/%é",
        "/\u{0}",
        "/../../..",
        "é/é/..",
        "////",
    ];
    let queries = [
        "", "%", "=", "&&&", "a=%", "%=%", "é=é", "a=%E1%88", "==&==",
    ];
    let mut runs = 0;
    for value in &values {
        for (i, date) in dates.iter().enumerate() {
            let path = paths.get(i % paths.len()).copied().unwrap_or("/");
            let query = queries.get(runs % queries.len()).copied().unwrap_or("");
            let mut request = good.clone();
            request.path = path.to_string();
            request.query = query.to_string();
            for header in &mut request.headers {
                match header.0.as_str() {
                    "authorization" => header.1 = value.clone(),
                    "x-amz-date" => header.1 = (*date).to_string(),
                    _ => {}
                }
            }
            let result = verify_suite(&request);
            assert!(result.is_err(), "{value:?} {date:?} {path:?} {query:?}");
            let _ = credential_region(&request);
            runs += 1;
        }
    }

    // Pseudo-random byte strings in every field.
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state
    };
    let alphabet: Vec<char> = "AWS4-HMAC-SHA256 Credential=/;,=%0123456789abcdefTZé\u{0}\t"
        .chars()
        .collect();
    let mut random_string = |len: usize| -> String {
        (0..len)
            .map(|_| {
                let pick = usize::try_from(next() % alphabet.len() as u64).unwrap_or(0);
                alphabet.get(pick).copied().unwrap_or('x')
            })
            .collect()
    };
    for round in 0..2000 {
        let request = Request {
            method: random_string(round % 5),
            path: random_string(round % 17),
            query: random_string(round % 13),
            headers: vec![
                ("host".to_string(), random_string(round % 7)),
                ("x-amz-date".to_string(), random_string(16)),
                ("date".to_string(), random_string(29)),
                ("authorization".to_string(), random_string(round % 120)),
                ("x-amz-content-sha256".to_string(), random_string(round % 3)),
            ],
            body: random_string(round % 11).into_bytes(),
            remote_addr: None,
        };
        assert!(verify_suite(&request).is_err());
        let _ = credential_region(&request);
    }
}

/// Large adversarial inputs stay fast: no step is quadratic.
#[test]
fn stays_linear_on_large_inputs() {
    let vanilla = &vector("get-vanilla");
    let mut request = vector_request(vanilla);
    request.path = format!("/{}", "%/.././".repeat(1 << 17));
    request.query = "a=%&".repeat(1 << 17);
    request.body = "a".repeat(1 << 20).into_bytes();
    for i in 0..5000 {
        request = request.with_header("my-header", &format!("{i}   \t  {i}"));
    }
    let scope = "20150830/us-east-1/service/aws4_request";
    let set_authorization = |request: &mut Request, signed_headers: &str| {
        for header in &mut request.headers {
            if header.0 == "authorization" {
                header.1 = authorization(scope, signed_headers, &vanilla.signature);
            }
        }
    };
    set_authorization(&mut request, "host;my-header;x-amz-date");
    assert_error(
        verify_suite(&request),
        ErrorKind::InvalidSignature,
        MISMATCH,
    );

    let mut names: Vec<String> = (0..20_000).map(|i| format!("h{i:05}")).collect();
    names.extend(["host", "my-header", "x-amz-date"].map(str::to_string));
    set_authorization(&mut request, &names.join(";"));
    assert_error(
        verify_suite(&request),
        ErrorKind::InvalidSignature,
        "'h00000' is listed",
    );
}
