//! Attribute rules: what a client may write, of which type and length, and which are required.

use alloc::collections::BTreeMap;
use alloc::format;
use alloc::string::String;

use crate::error::Error;
use crate::pool::PoolRecord;

pub fn looks_like_email(value: &str) -> bool {
    match value.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
                && !value.chars().any(char::is_whitespace)
                && value.matches('@').count() == 1
        }
        None => false,
    }
}

pub fn looks_like_phone(value: &str) -> bool {
    value.len() > 2
        && value.len() <= 16
        && value.starts_with('+')
        && value.bytes().skip(1).all(|b| b.is_ascii_digit())
}

/// Validates the attributes of a new user (SignUp, AdminCreateUser).
pub fn validate_attributes(
    pool: &PoolRecord,
    attributes: &mut BTreeMap<String, String>,
    admin: bool,
) -> Result<(), Error> {
    validate_values(pool, attributes, admin)?;
    check_required(pool, attributes)
}

/// Validates attribute values a client writes: known to the schema, writable by this caller,
/// of the right type and length. Boolean values are case-insensitive, as in Cognito
/// (`email_verified = "True"`), and are stored as `true`/`false`.
pub fn validate_values(
    pool: &PoolRecord,
    attributes: &mut BTreeMap<String, String>,
    admin: bool,
) -> Result<(), Error> {
    for (name, value) in attributes.iter_mut() {
        let Some(schema) = pool.schema_attribute(name) else {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: Type for attribute {{{name}}} could not be determined"
            )));
        };
        if name == "sub" {
            return Err(Error::invalid_parameter(
                "Attributes did not conform to the schema: sub: Attribute cannot be updated. (changing an immutable attribute)",
            ));
        }
        if !admin && (name == "email_verified" || name == "phone_number_verified") {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: {name}: Only an administrator can set this attribute."
            )));
        }
        if schema.developer_only_attribute && !admin {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: {name}: Developer-only attributes can only be written by an administrator."
            )));
        }
        if value.chars().count() > 2048 {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: {name}: String must be no longer than 2048 characters"
            )));
        }
        if let Some(c) = &schema.string_attribute_constraints {
            let len = value.chars().count() as u64;
            let min = c
                .min_length
                .as_deref()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(0);
            let max = c
                .max_length
                .as_deref()
                .and_then(|v| v.parse::<u64>().ok())
                .unwrap_or(2048);
            if len < min || len > max {
                return Err(Error::invalid_parameter(format!(
                    "Attributes did not conform to the schema: {name}: String must be between {min} and {max} characters"
                )));
            }
        }
        if schema.attribute_data_type == "Boolean"
            && (value.eq_ignore_ascii_case("true") || value.eq_ignore_ascii_case("false"))
        {
            value.make_ascii_lowercase();
        }
        match schema.attribute_data_type.as_str() {
            "Boolean" if !matches!(value.as_str(), "true" | "false") => {
                return Err(Error::invalid_parameter(format!(
                    "Attributes did not conform to the schema: {name}: Value must be true or false"
                )));
            }
            "Number" if value.parse::<f64>().is_err() => {
                return Err(Error::invalid_parameter(format!(
                    "Attributes did not conform to the schema: {name}: Value must be a number"
                )));
            }
            _ => {}
        }
        if name == "email" && !looks_like_email(value) {
            return Err(Error::invalid_parameter("Invalid email address format."));
        }
        if name == "phone_number" && !looks_like_phone(value) {
            return Err(Error::invalid_parameter("Invalid phone number format."));
        }
    }
    Ok(())
}

/// Checks that every attribute the schema requires has a value.
pub fn check_required(
    pool: &PoolRecord,
    attributes: &BTreeMap<String, String>,
) -> Result<(), Error> {
    for schema in &pool.schema {
        if schema.required && schema.name != "sub" && !attributes.contains_key(&schema.name) {
            return Err(Error::invalid_parameter(format!(
                "Attributes did not conform to the schema: {}: The attribute is required",
                schema.name
            )));
        }
    }
    Ok(())
}
