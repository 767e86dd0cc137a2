//! User migration: users of a legacy system, in a table compiled into the plugin, move into the
//! pool the first time they sign in (with their legacy password) or ask for a password reset.

use cognate_plugin::{Event, Strings, UserMigrationRequest, UserMigrationResponse};

/// The legacy directory: (username, password, email, name).
pub const LEGACY_USERS: &[(&str, &str, &str, &str)] = &[
    (
        "legacy-alice",
        "Legacy-Passw0rd!",
        "alice@legacy.example",
        "Alice Legacy",
    ),
    (
        "legacy-bob",
        "B0b-Legacy-Secret!",
        "bob@legacy.example",
        "Bob Legacy",
    ),
];

pub fn user_migration(
    event: Event<UserMigrationRequest, UserMigrationResponse>,
) -> Result<UserMigrationResponse, String> {
    let Some((_, password, email, name)) = LEGACY_USERS
        .iter()
        .find(|(user, ..)| user.eq_ignore_ascii_case(&event.user_name))
    else {
        // Not ours either: the pool answers as for any unknown user.
        return Ok(UserMigrationResponse::default());
    };
    let mut attributes = Strings::new();
    attributes.insert("email".into(), (*email).into());
    attributes.insert("email_verified".into(), "true".into());
    attributes.insert("name".into(), (*name).into());
    let status = match event.trigger_source.as_str() {
        "UserMigration_Authentication" => {
            if event.request.password.as_deref() != Some(*password) {
                return Err("Bad password".into());
            }
            "CONFIRMED"
        }
        "UserMigration_ForgotPassword" => "RESET_REQUIRED",
        other => return Err(format!("unexpected trigger {other}")),
    };
    Ok(UserMigrationResponse {
        user_attributes: Some(attributes),
        final_user_status: Some(status.into()),
        message_action: Some("SUPPRESS".into()),
        ..UserMigrationResponse::default()
    })
}

cognate_plugin::export_handler!(user_migration);
