//! A pool's attribute schema: the standard attributes, custom ones, and their constraints.

use alloc::format;
use alloc::string::{String, ToString};
use alloc::vec::Vec;

use serde::{Deserialize, Serialize};

use crate::error::Error;

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct StringConstraints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_length: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_length: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct NumberConstraints {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub min_value: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub max_value: Option<String>,
}

/// Cognito's `SchemaAttributeType`.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "PascalCase")]
pub struct SchemaAttribute {
    pub name: String,
    #[serde(default = "string_type")]
    pub attribute_data_type: String,
    #[serde(default)]
    pub developer_only_attribute: bool,
    #[serde(default = "yes")]
    pub mutable: bool,
    #[serde(default)]
    pub required: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub string_attribute_constraints: Option<StringConstraints>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub number_attribute_constraints: Option<NumberConstraints>,
}

fn string_type() -> String {
    "String".to_string()
}
fn yes() -> bool {
    true
}

/// Cognito's standard attributes: (name, type, mutable).
const STANDARD_ATTRIBUTES: &[(&str, &str, bool)] = &[
    ("sub", "String", false),
    ("name", "String", true),
    ("given_name", "String", true),
    ("family_name", "String", true),
    ("middle_name", "String", true),
    ("nickname", "String", true),
    ("preferred_username", "String", true),
    ("profile", "String", true),
    ("picture", "String", true),
    ("website", "String", true),
    ("email", "String", true),
    ("email_verified", "Boolean", true),
    ("gender", "String", true),
    ("birthdate", "String", true),
    ("zoneinfo", "String", true),
    ("locale", "String", true),
    ("phone_number", "String", true),
    ("phone_number_verified", "Boolean", true),
    ("address", "String", true),
    ("updated_at", "Number", true),
];

fn default_schema() -> Vec<SchemaAttribute> {
    STANDARD_ATTRIBUTES
        .iter()
        .map(|(name, ty, mutable)| SchemaAttribute {
            name: name.to_string(),
            attribute_data_type: ty.to_string(),
            developer_only_attribute: false,
            mutable: *mutable,
            required: *name == "sub",
            string_attribute_constraints: (*ty == "String").then(|| StringConstraints {
                min_length: Some(if *name == "sub" { "1" } else { "0" }.to_string()),
                max_length: Some("2048".to_string()),
            }),
            number_attribute_constraints: (*ty == "Number").then(|| NumberConstraints {
                min_value: Some("0".to_string()),
                max_value: None,
            }),
        })
        .collect()
}

/// Builds the pool's schema: the standard attributes (with `Required` as asked) and the custom
/// attributes declared, named `custom:<name>`.
pub fn build_schema(requested: &[SchemaAttribute]) -> Result<Vec<SchemaAttribute>, Error> {
    let mut schema = default_schema();
    for attr in requested {
        if attr.name.is_empty() || attr.name.chars().count() > 20 && !is_standard(&attr.name) {
            return Err(Error::invalid_parameter(
                "Custom attribute names must be 1 to 20 characters long.",
            ));
        }
        if !matches!(
            attr.attribute_data_type.as_str(),
            "String" | "Number" | "DateTime" | "Boolean"
        ) {
            return Err(Error::invalid_parameter(format!(
                "Invalid AttributeDataType {} for attribute {}.",
                attr.attribute_data_type, attr.name
            )));
        }
        if let Some(standard) = schema.iter_mut().find(|s| s.name == attr.name) {
            if standard.name == "sub" {
                continue;
            }
            standard.required = attr.required;
            standard.mutable = attr.mutable;
            if attr.string_attribute_constraints.is_some() {
                standard.string_attribute_constraints = attr.string_attribute_constraints.clone();
            }
            continue;
        }
        if attr.required {
            return Err(Error::invalid_parameter(
                "Required custom attributes are not supported currently.",
            ));
        }
        add_custom_attribute(&mut schema, attr)?;
    }
    Ok(schema)
}

/// Maximum custom attributes per pool (Cognito's quota).
pub const MAX_CUSTOM_ATTRIBUTES: usize = 50;

/// Adds a custom attribute (`custom:` is prefixed when missing); names are never reused.
pub fn add_custom_attribute(
    schema: &mut Vec<SchemaAttribute>,
    attr: &SchemaAttribute,
) -> Result<(), Error> {
    let name = attr.name.strip_prefix("custom:").unwrap_or(&attr.name);
    if name.is_empty() || name.chars().count() > 20 {
        return Err(Error::invalid_parameter(
            "Custom attribute names must be 1 to 20 characters long.",
        ));
    }
    if !matches!(
        attr.attribute_data_type.as_str(),
        "String" | "Number" | "DateTime" | "Boolean"
    ) {
        return Err(Error::invalid_parameter(format!(
            "Invalid AttributeDataType {} for attribute {}.",
            attr.attribute_data_type, attr.name
        )));
    }
    if !name
        .chars()
        .all(|c| c.is_alphanumeric() || "_-:".contains(c))
    {
        return Err(Error::invalid_parameter(format!(
            "Invalid custom attribute name {name}."
        )));
    }
    let full = format!("custom:{name}");
    if schema.iter().any(|s| s.name == full) {
        return Err(Error::invalid_parameter(format!(
            "Existing attribute already has name {full}."
        )));
    }
    if schema
        .iter()
        .filter(|s| s.name.starts_with("custom:"))
        .count()
        >= MAX_CUSTOM_ATTRIBUTES
    {
        return Err(Error::new(
            crate::error::ErrorKind::LimitExceeded,
            "A user pool can have at most 50 custom attributes.",
        ));
    }
    let mut custom = attr.clone();
    custom.name = full;
    custom.required = false;
    schema.push(custom);
    Ok(())
}

fn is_standard(name: &str) -> bool {
    STANDARD_ATTRIBUTES.iter().any(|(n, _, _)| *n == name)
}
