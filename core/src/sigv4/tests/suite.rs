//! AWS's test suite and requests signed by AWS's own signers: accepted, and reproduced by
//! [`sign`].

use super::*;

#[test]
fn accepts_the_aws_test_suite() {
    for vector in &suite() {
        let result = verify_suite(&vector_request(vector));
        assert_eq!(
            result,
            Ok(SignedBy {
                access_key_id: SUITE_KEY_ID.to_string(),
                region: "us-east-1".to_string(),
            }),
            "{} ({})",
            vector.name,
            vector.target
        );
    }
}

/// Signing reproduces the suite's signatures: every vector whose signed headers are all of
/// its headers (a signer signs what it sends). `post-sts-header-after` adds its token after
/// signing, so it is not one.
#[test]
fn signs_as_the_aws_test_suite() {
    let credentials = Credentials {
        access_key_id: SUITE_KEY_ID.to_string(),
        secret_access_key: Secret::new(SUITE_SECRET),
        session_token: None,
    };
    let mut signed = 0;
    for vector in &suite() {
        let mut names: Vec<String> = vector
            .headers
            .iter()
            .map(|(n, _)| n.to_ascii_lowercase())
            .chain(["host".to_string(), "x-amz-date".to_string()])
            .collect();
        names.sort();
        // A target already percent-encoded is signed as sent (encoded again), as the SDKs
        // do; the suite lists those for the verifier. Unnormalised vectors are S3's.
        if names.join(";") != vector.signed_headers
            || vector.target.contains([' ', '%'])
            || vector.name.ends_with("-unnormalized")
        {
            continue;
        }
        let mut request = crate::ports::DeliveryRequest {
            method: vector.method.to_string(),
            url: format!("https://example.amazonaws.com{}", vector.target),
            headers: vector
                .headers
                .iter()
                .map(|(n, v)| (n.to_ascii_lowercase(), v.to_string()))
                .collect(),
            body: vector.body.clone(),
        };
        sign(
            &mut request,
            &credentials,
            "us-east-1",
            "service",
            SUITE_NOW_MS,
        )
        .unwrap();
        let authorization = &request.headers["authorization"];
        assert_eq!(
            authorization,
            &authorization_for(vector),
            "{} ({})",
            vector.name,
            vector.target
        );
        assert_eq!(request.headers["x-amz-date"], SUITE_DATE);
        // What it signed, our verifier accepts.
        let mut back = Request::new(&vector.method, vector.target.split('?').next().unwrap());
        back.query = vector
            .target
            .split_once('?')
            .map(|(_, q)| q)
            .unwrap_or("")
            .to_string();
        back.body = vector.body.as_bytes().to_vec();
        back = back.with_header("host", "example.amazonaws.com");
        for (name, value) in &request.headers {
            back = back.with_header(name, value);
        }
        assert!(verify_suite(&back).is_ok(), "{}", vector.name);
        signed += 1;
    }
    assert!(signed >= 8, "only {signed} vectors were signable");
}

fn authorization_for(vector: &Vector) -> String {
    format!(
        "AWS4-HMAC-SHA256 Credential={SUITE_KEY_ID}/20150830/us-east-1/service/aws4_request, \
         SignedHeaders={}, Signature={}",
        vector.signed_headers, vector.signature
    )
}

#[test]
fn signs_with_a_session_token_and_a_port() {
    let credentials = Credentials {
        access_key_id: SUITE_KEY_ID.to_string(),
        secret_access_key: Secret::new(SUITE_SECRET),
        session_token: Some(Secret::new(
            "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267",
        )),
    };
    let mut request = crate::ports::DeliveryRequest {
        method: "GET".into(),
        url: "https://example.amazonaws.com:443/".into(),
        headers: Default::default(),
        body: String::new(),
    };
    sign(
        &mut request,
        &credentials,
        "us-east-1",
        "service",
        SUITE_NOW_MS,
    )
    .unwrap();
    // The suite's get-vanilla-with-session-token.
    assert_eq!(
        request.headers["authorization"],
        authorization_for(&vector("get-vanilla-with-session-token"))
    );
    // A port that is not the default is part of the signed host.
    let mut other = crate::ports::DeliveryRequest {
        url: "http://127.0.0.1:5000/".into(),
        ..request.clone()
    };
    sign(
        &mut other,
        &credentials,
        "us-east-1",
        "service",
        SUITE_NOW_MS,
    )
    .unwrap();
    let back = Request::new("GET", "/")
        .with_header("host", "127.0.0.1:5000")
        .with_header("x-amz-date", SUITE_DATE)
        .with_header(
            "x-amz-security-token",
            &other.headers["x-amz-security-token"],
        )
        .with_header("authorization", &other.headers["authorization"]);
    assert!(verify_suite(&back).is_ok());
    assert_ne!(
        other.headers["authorization"],
        request.headers["authorization"]
    );
}

#[test]
fn rejects_each_suite_vector_with_another_signature() {
    // The signature of another request never passes.
    let other = vector("post-x-www-form-urlencoded").signature;
    for case in &suite() {
        let signature = if case.signature == other {
            vector("get-vanilla").signature
        } else {
            other.clone()
        };
        let request = suite_request(
            &case.method,
            &case.target,
            &case.headers,
            case.body.as_bytes(),
            &case.signed_headers,
            &signature,
        );
        assert_error(
            verify_suite(&request),
            ErrorKind::InvalidSignature,
            MISMATCH,
        );
    }
}

/// AWS's `double-url-encode` case: a Lambda path whose escaped `:` is signed as `%253A`, as
/// every SDK signs a non-S3 path.
#[test]
fn accepts_a_double_encoded_path() {
    let signed = Signed::named("double-url-encode");
    let mut request = signed.request();
    assert_eq!(
        signed.verify(&request),
        Ok(SignedBy {
            access_key_id: SUITE_KEY_ID.to_string(),
            region: signed.region.clone(),
        })
    );
    // Signed as `%253A`, so a `:` sent unescaped is another request.
    request.path = request.path.replace("%3A", ":");
    assert_error(
        signed.verify(&request),
        ErrorKind::InvalidSignature,
        MISMATCH,
    );
}

/// The 2011 edition of AWS's test suite, dated by a `Date` header instead of `x-amz-date`.
#[test]
fn falls_back_to_the_date_header() {
    let signed = Signed::named("date-header-2011");
    let request = signed.request();
    assert_eq!(
        signed.verify(&request).map(|signed| signed.region),
        Ok("us-east-1".to_string())
    );
    let mut garbled = request.clone();
    garbled.headers[0].1 = "Mon, 09 Sep 2011 23:36:00 UTC".to_string();
    assert_error(
        signed.verify(&garbled),
        ErrorKind::InvalidSignature,
        "HTTP date",
    );
}

/// A Cognito call signed by the AWS SDK for Rust's signer (`aws-sigv4` 1.6.4).
#[test]
fn accepts_a_cognito_call_signed_by_the_aws_sdk_for_rust() {
    let signed = Signed::named("aws-sdk-for-rust-admin-get-user");
    let request = signed.request();
    let expected = SignedBy {
        access_key_id: SUITE_KEY_ID.to_string(),
        region: "eu-west-1".to_string(),
    };
    assert_eq!(signed.verify(&request), Ok(expected));
    assert_eq!(credential_region(&request), Some("eu-west-1".to_string()));

    // Another operation on the same body is another request.
    let mut other = request.clone();
    assert_eq!(other.headers[1].0, "x-amz-target");
    other.headers[1].1 = "AWSCognitoIdentityProviderService.AdminDeleteUser".to_string();
    assert_error(signed.verify(&other), ErrorKind::InvalidSignature, MISMATCH);
    // The user agent is not signed, so a proxy may rewrite it.
    let mut other = request.clone();
    for header in &mut other.headers {
        if header.0 == "user-agent" {
            header.1 = "proxy".to_string();
        }
    }
    assert!(signed.verify(&other).is_ok());
}

/// The same call signed by botocore (the AWS CLI's and boto3's signer).
#[test]
fn accepts_a_cognito_call_signed_by_botocore() {
    let signed = Signed::named("botocore-admin-get-user");
    let request = signed.request();
    assert_eq!(
        signed.verify(&request).map(|s| s.region),
        Ok("eu-west-1".to_string())
    );
    let mut tampered = request.clone();
    tampered.body = br#"{"UserPoolId":"us-east-1_example","Username":"mallory"}"#.to_vec();
    assert_error(
        signed.verify(&tampered),
        ErrorKind::InvalidSignature,
        MISMATCH,
    );
}

#[test]
fn tolerates_the_separators_signers_write() {
    let signature = &vector("get-vanilla").signature;
    for header in [
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,SignedHeaders=host;x-amz-date,Signature={signature}"
        ),
        format!(
            "  AWS4-HMAC-SHA256   Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request ,\tSignedHeaders=host;x-amz-date , Signature={signature}  "
        ),
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request SignedHeaders=host;x-amz-date Signature={signature}"
        ),
        // Parameters in another order, and one this verifier does not know.
        format!(
            "AWS4-HMAC-SHA256 Signature={signature}, SignedHeaders=host;x-amz-date, Extra=1, Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request"
        ),
        // Upper-case hex.
        format!(
            "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request, SignedHeaders=host;x-amz-date, Signature={}",
            signature.to_ascii_uppercase()
        ),
    ] {
        let request = Request::new("GET", "/")
            .with_header("host", "example.amazonaws.com")
            .with_header("x-amz-date", SUITE_DATE)
            .with_header("authorization", &header);
        assert!(verify_suite(&request).is_ok(), "{header}");
    }
}
