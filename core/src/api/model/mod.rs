//! Every request checked against Cognito's own service model before its operation runs.
//!
//! The tables in `data.rs` are generated from botocore's model of the user-pools API (the
//! one the AWS CLI and SDKs are built from) by `scripts/gen-cognito-model.py`. Checking in two
//! steps mirrors Cognito's front end:
//!
//! 1. Types: a member of the wrong JSON type (a number for a string, a string for a list) is a
//!    `SerializationException`, whatever member it is, including ones an operation ignores.
//! 2. Constraints: required members, length and range bounds and enum values, all collected into
//!    one `InvalidParameterException` worded as AWS words it: `2 validation errors detected: Value
//!    'x' at 'userPoolId' failed to satisfy constraint: Member must ...; ...`. Secret values
//!    (passwords, tokens: `sensitive` in the model) are never quoted.
//!
//! Unknown members are ignored, as Cognito ignores them. `pattern` constraints are not checked
//! here (they would need a regex engine in the core); the operations check the formats they rely
//! on themselves.

use alloc::format;
use alloc::string::String;
use alloc::vec::Vec;

use serde_json::Value;

use crate::error::{Error, ErrorKind};

#[rustfmt::skip]
mod data;
#[rustfmt::skip]
mod identity_data;

/// One service's model: its operations (sorted by name) and their shapes.
struct Model {
    operations: &'static [(&'static str, u16)],
    shapes: &'static [Shape],
}

/// The user-pools API (`cognito-idp`).
static USER_POOLS: Model = Model {
    operations: &data::OPERATIONS,
    shapes: &data::SHAPES,
};
/// The identity-pools API (`cognito-identity`).
static IDENTITY_POOLS: Model = Model {
    operations: &identity_data::OPERATIONS,
    shapes: &identity_data::SHAPES,
};

/// The kind of a shape, with what it contains (indices into `SHAPES`).
#[derive(Debug)]
pub(super) enum Kind {
    String,
    Enum(&'static [&'static str]),
    Integer,
    Boolean,
    Blob,
    Timestamp,
    /// Any JSON value.
    Document,
    List(u16),
    Map(u16, u16),
    Structure(&'static [Member]),
}

/// A member of a structure.
#[derive(Debug)]
pub(super) struct Member {
    pub name: &'static str,
    pub shape: u16,
    pub required: bool,
}

/// One shape of the model: its kind, its bounds (length for strings, lists and maps; value for
/// numbers) and whether its values are secret.
#[derive(Debug)]
pub(super) struct Shape {
    pub kind: Kind,
    pub min: Option<i64>,
    pub max: Option<i64>,
    pub sensitive: bool,
}

/// How many characters of a value a validation message quotes.
const QUOTE_CHARS: usize = 256;
/// Nesting deeper than this is refused (the model's own is at most a few levels).
const MAX_DEPTH: usize = 16;

/// Checks `body` (nulls already removed) against the user-pools model of `operation`.
/// Operations the model does not know pass unchecked (the dispatcher answers them).
pub(super) fn check(operation: &str, body: &Value) -> Result<(), Error> {
    check_in(&USER_POOLS, operation, body)
}

/// [`check`] against the identity-pools model (`AWSCognitoIdentityService.*`).
pub(crate) fn check_identity(operation: &str, body: &Value) -> Result<(), Error> {
    check_in(&IDENTITY_POOLS, operation, body)
}

fn check_in(model: &Model, operation: &str, body: &Value) -> Result<(), Error> {
    let Ok(found) = model
        .operations
        .binary_search_by(|(name, _)| name.cmp(&operation))
    else {
        return Ok(());
    };
    let Some(&(_, shape)) = model.operations.get(found) else {
        return Ok(());
    };
    let mut violations = Vec::new();
    value(model, shape, body, &Path::Root, 0, &mut violations)?;
    match violations.len() {
        0 => Ok(()),
        1 => Err(Error::invalid_parameter(format!(
            "1 validation error detected: {}",
            violations.concat()
        ))),
        n => Err(Error::invalid_parameter(format!(
            "{n} validation errors detected: {}",
            violations.join("; ")
        ))),
    }
}

fn shape(model: &Model, index: u16) -> Result<&'static Shape, Error> {
    model
        .shapes
        .get(usize::from(index))
        .ok_or_else(|| Error::internal("service model: shape index out of range"))
}

fn type_error(path: &Path<'_>, expected: &str) -> Error {
    let message = match path {
        Path::Root => format!("Expected {expected} at 'the request'"),
        _ => format!("Expected {expected} at '{path}'"),
    };
    Error::new(ErrorKind::Serialization, message)
}

/// Where a value sits in the request (`userAttributes.1.member.name`), kept as links to its
/// parents and written out only for a message: valid requests, nearly all of them, build no
/// strings.
enum Path<'a> {
    Root,
    /// A structure's member; AWS writes its name with a lower-case first letter (`userPoolId`).
    Member(&'a Path<'a>, &'static str),
    /// A list's item, counted from 1 as AWS counts them.
    Item(&'a Path<'a>, usize),
    /// A map's entry.
    Entry(&'a Path<'a>, &'a str),
}

impl core::fmt::Display for Path<'_> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        match self {
            Path::Root => Ok(()),
            Path::Member(parent, name) => {
                if !matches!(parent, Path::Root) {
                    write!(f, "{parent}.")?;
                }
                let mut chars = name.chars();
                if let Some(first) = chars.next() {
                    write!(f, "{}", first.to_lowercase())?;
                }
                f.write_str(chars.as_str())
            }
            Path::Item(parent, number) => write!(f, "{parent}.{number}.member"),
            Path::Entry(parent, key) => write!(f, "{parent}.{key}"),
        }
    }
}

fn violation(shape: &Shape, shown: Option<&str>, path: &Path<'_>, rule: String) -> String {
    match shown {
        Some(text) if !shape.sensitive => {
            let quoted: String = text.chars().take(QUOTE_CHARS).collect();
            format!("Value '{quoted}' at '{path}' failed to satisfy constraint: {rule}")
        }
        _ => format!("Value at '{path}' failed to satisfy constraint: {rule}"),
    }
}

fn length_rules(
    shape: &Shape,
    length: usize,
    shown: Option<&str>,
    path: &Path<'_>,
    out: &mut Vec<String>,
) {
    let length = i64::try_from(length).unwrap_or(i64::MAX);
    if let Some(min) = shape.min
        && length < min
    {
        out.push(violation(
            shape,
            shown,
            path,
            format!("Member must have length greater than or equal to {min}"),
        ));
    }
    if let Some(max) = shape.max
        && length > max
    {
        out.push(violation(
            shape,
            shown,
            path,
            format!("Member must have length less than or equal to {max}"),
        ));
    }
}

/// A string's length bounds count characters. A string of `n` bytes has between `n / 4` and `n`
/// of them, which settles most strings without counting (a 26-byte client id against 1..=128);
/// one without bounds (an access token) is never counted.
fn string_length_rules(shape: &Shape, text: &str, path: &Path<'_>, out: &mut Vec<String>) {
    let bytes = i64::try_from(text.len()).unwrap_or(i64::MAX);
    let surely_long_enough = shape.min.is_none_or(|min| bytes / 4 >= min);
    let surely_short_enough = shape.max.is_none_or(|max| bytes <= max);
    if !(surely_long_enough && surely_short_enough) {
        length_rules(shape, text.chars().count(), Some(text), path, out);
    }
}

fn value(
    model: &Model,
    index: u16,
    value: &Value,
    path: &Path<'_>,
    depth: usize,
    out: &mut Vec<String>,
) -> Result<(), Error> {
    if depth > MAX_DEPTH {
        return Err(type_error(path, "less deeply nested input"));
    }
    let shape = shape(model, index)?;
    match &shape.kind {
        Kind::Document => {}
        Kind::String | Kind::Blob => {
            let text = value.as_str().ok_or_else(|| type_error(path, "a string"))?;
            string_length_rules(shape, text, path, out);
        }
        Kind::Enum(values) => {
            let text = value.as_str().ok_or_else(|| type_error(path, "a string"))?;
            if !values.contains(&text) {
                out.push(violation(
                    shape,
                    Some(text),
                    path,
                    format!(
                        "Member must satisfy enum value set: [{}]",
                        values.join(", ")
                    ),
                ));
            }
        }
        Kind::Integer | Kind::Timestamp => {
            let number = value.as_f64().ok_or_else(|| type_error(path, "a number"))?;
            let shown = || format!("{value}");
            if let Some(min) = shape.min
                && number < min as f64
            {
                out.push(violation(
                    shape,
                    Some(&shown()),
                    path,
                    format!("Member must have value greater than or equal to {min}"),
                ));
            }
            if let Some(max) = shape.max
                && number > max as f64
            {
                out.push(violation(
                    shape,
                    Some(&shown()),
                    path,
                    format!("Member must have value less than or equal to {max}"),
                ));
            }
        }
        Kind::Boolean => {
            value
                .as_bool()
                .ok_or_else(|| type_error(path, "a boolean"))?;
        }
        Kind::List(member) => {
            let items = value.as_array().ok_or_else(|| type_error(path, "a list"))?;
            length_rules(shape, items.len(), None, path, out);
            for (i, item) in items.iter().enumerate() {
                let item_path = Path::Item(path, i + 1);
                if item.is_null() {
                    return Err(type_error(&item_path, "a value, not null,"));
                }
                self::value(model, *member, item, &item_path, depth + 1, out)?;
            }
        }
        Kind::Map(key, member) => {
            let entries = value.as_object().ok_or_else(|| type_error(path, "a map"))?;
            length_rules(shape, entries.len(), None, path, out);
            for (k, v) in entries {
                self::value(model, *key, &Value::String(k.clone()), path, depth + 1, out)?;
                self::value(model, *member, v, &Path::Entry(path, k), depth + 1, out)?;
            }
        }
        Kind::Structure(members) => {
            let object = value
                .as_object()
                .ok_or_else(|| type_error(path, "an object"))?;
            for member in *members {
                let member_path = Path::Member(path, member.name);
                match object.get(member.name) {
                    Some(v) => self::value(model, member.shape, v, &member_path, depth + 1, out)?,
                    None if member.required => out.push(format!(
                        "Value null at '{member_path}' failed to satisfy constraint: Member must not be null"
                    )),
                    None => {}
                }
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used, clippy::indexing_slicing)]
    use super::*;
    use serde_json::json;

    fn message(op: &str, body: Value) -> (ErrorKind, String) {
        let e = check(op, &body).unwrap_err();
        (e.kind, e.message)
    }

    #[test]
    fn operations_are_sorted_for_binary_search() {
        let names: Vec<&str> = super::data::OPERATIONS.iter().map(|(n, _)| *n).collect();
        let mut sorted = names.clone();
        sorted.sort_unstable();
        assert_eq!(names, sorted);
        assert!(names.contains(&"SignUp") && names.len() > 100);
    }

    #[test]
    fn required_members_bounds_enums_and_secrets() {
        assert!(
            check(
                "SignUp",
                &json!({"ClientId": "abc", "Username": "u", "Password": "p"})
            )
            .is_ok()
        );
        let (kind, text) = message("AdminCreateUser", json!({"UserAttributes": []}));
        assert_eq!(kind, ErrorKind::InvalidParameter);
        assert_eq!(
            text,
            "2 validation errors detected: Value null at 'userPoolId' failed to satisfy constraint: Member must not be null; Value null at 'username' failed to satisfy constraint: Member must not be null"
        );
        let (_, text) = message(
            "SignUp",
            json!({"ClientId": "abc", "Username": "u", "Password": "x".repeat(300)}),
        );
        // The password is sensitive: never quoted.
        assert_eq!(
            text,
            "1 validation error detected: Value at 'password' failed to satisfy constraint: Member must have length less than or equal to 256"
        );
        let (_, text) = message(
            "InitiateAuth",
            json!({"ClientId": "abc", "AuthFlow": "user_password_auth"}),
        );
        assert!(text.contains("Value 'user_password_auth' at 'authFlow' failed to satisfy constraint: Member must satisfy enum value set: ["), "{text}");
        let (_, text) = message(
            "ListUsers",
            json!({"UserPoolId": "us-east-1_abc", "Limit": 61}),
        );
        assert!(text.contains("Value '61' at 'limit' failed to satisfy constraint: Member must have value less than or equal to 60"), "{text}");
        let (_, text) = message(
            "SignUp",
            json!({"ClientId": "abc", "Username": "u", "Password": "p",
                   "UserAttributes": [{"Name": "email", "Value": "v".repeat(3000)}]}),
        );
        assert!(
            text.contains("at 'userAttributes.1.member.value' failed"),
            "{text}"
        );
    }

    #[test]
    fn string_lengths_count_characters_not_bytes() {
        // Password: at most 256 characters. 256 two-byte characters are 512 bytes and pass.
        let sign_up = |password: String| {
            check(
                "SignUp",
                &json!({"ClientId": "abc", "Username": "u", "Password": password}),
            )
        };
        assert!(sign_up("é".repeat(256)).is_ok());
        assert!(sign_up("é".repeat(257)).is_err());
        // Session: at least 20 characters. 19 four-byte characters are 76 bytes and fail.
        let respond = |session: String| {
            check(
                "RespondToAuthChallenge",
                &json!({"ClientId": "abc", "ChallengeName": "SMS_MFA", "Session": session}),
            )
        };
        for short in ["é".repeat(19), "😀".repeat(19)] {
            let e = respond(short).unwrap_err();
            assert_eq!(e.kind, ErrorKind::InvalidParameter, "{}", e.message);
            assert!(e.message.contains("at 'session'"), "{}", e.message);
        }
        assert!(respond("é".repeat(20)).is_ok());
        assert!(respond("😀".repeat(20)).is_ok());
    }

    #[test]
    fn messages_name_map_entries_and_the_request() {
        let (_, text) = message(
            "SignUp",
            json!({"ClientId": "a", "Username": "u", "Password": "p", "ClientMetadata": {"k": 1}}),
        );
        assert_eq!(text, "Expected a string at 'clientMetadata.k'");
        let (_, text) = message("SignUp", json!([]));
        assert_eq!(text, "Expected an object at 'the request'");
    }

    #[test]
    fn wrong_types_anywhere_are_serialization_errors() {
        for body in [
            json!({"ClientId": 1, "Username": "u", "Password": "p"}),
            json!({"ClientId": "a", "Username": "u", "Password": "p", "UserAttributes": "x"}),
            json!({"ClientId": "a", "Username": "u", "Password": "p", "ValidationData": [1]}),
            json!({"ClientId": "a", "Username": "u", "Password": "p", "ClientMetadata": {"k": 1}}),
            json!({"ClientId": "a", "Username": "u", "Password": "p", "AnalyticsMetadata": "x"}),
            json!({"ClientId": "a", "Username": "u", "Password": "p", "UserAttributes": [null]}),
        ] {
            assert_eq!(message("SignUp", body).0, ErrorKind::Serialization);
        }
        assert_eq!(
            message(
                "CreateUserPool",
                json!({"PoolName": "p", "MfaConfiguration": 1})
            )
            .0,
            ErrorKind::Serialization
        );
        // Unknown members are ignored; unknown operations are the dispatcher's business.
        assert!(
            check(
                "SignUp",
                &json!({"ClientId": "a", "Username": "u", "Password": "p", "Extra": 1})
            )
            .is_ok()
        );
        assert!(check("NoSuchOperation", &json!({"x": 1})).is_ok());
    }
}
