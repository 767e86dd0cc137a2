//! `/signup`: sign up with the pool's username (or email or phone) and required attributes.

use alloc::string::{String, ToString};
use alloc::vec::Vec;

use super::{confirm, login, user_message};
use crate::http::Response;
use crate::oidc::Ctx;
use crate::oidc::authorize::AuthRequest;
use crate::oidc::form::Params;
use crate::ui::render::{Field, Page, links, render};

/// The sign-up fields: the username (unless the pool signs up with email or phone), the
/// required attributes, email, and the password.
pub async fn page(
    ctx: &Ctx<'_>,
    request: &AuthRequest,
    error: Option<&str>,
    form: &Params,
    status: u16,
) -> Response {
    let pool = &request.pool;
    let mut fields = Vec::new();
    let email_is_username = pool.username_attributes.iter().any(|a| a == "email");
    if pool.username_attributes.is_empty() {
        fields.push(
            Field::new("username", "Username", "text", "username")
                .value(form.first("username").unwrap_or_default()),
        );
    }
    let mut wanted: Vec<&str> = pool
        .schema
        .iter()
        .filter(|a| a.required && a.name != "sub")
        .map(|a| a.name.as_str())
        .collect();
    if !wanted.contains(&"email") && (email_is_username || pool.auto_verifies("email")) {
        wanted.insert(0, "email");
    }
    let mut owned: Vec<(String, String)> = Vec::new();
    for name in &wanted {
        let label = match *name {
            "email" => "Email",
            "phone_number" => "Phone number (+15551234567)",
            "name" => "Name",
            "given_name" => "Given name",
            "family_name" => "Family name",
            other => other,
        };
        owned.push((name.to_string(), label.to_string()));
    }
    for (name, label) in &owned {
        let (kind, auto) = match name.as_str() {
            "email" => ("email", "email"),
            "phone_number" => ("tel", "tel"),
            _ => ("text", "off"),
        };
        let f = Field::new(name, label, kind, auto).value(form.first(name).unwrap_or_default());
        fields.push(
            if pool.schema_attribute(name).is_some_and(|a| a.required) || name == "email" {
                f
            } else {
                f.optional()
            },
        );
    }
    fields.push(Field::new(
        "password",
        "Password",
        "password",
        "new-password",
    ));
    let page = Page {
        title: "Sign up",
        action: &alloc::format!("{}/signup", ctx.path_prefix),
        button: "Sign up",
        fields,
        hidden: Vec::new(),
        notice: None,
        error,
        links: links(ctx, request, &["/login", "/confirm"]),
    };
    render(ctx, request, page, status).await
}

pub async fn post(ctx: &Ctx<'_>, request: &AuthRequest, form: &Params) -> Response {
    let pool = &request.pool;
    let email = form.first("email").unwrap_or_default().trim().to_string();
    let username = if pool.username_attributes.is_empty() {
        form.first("username")
            .unwrap_or_default()
            .trim()
            .to_string()
    } else if pool.username_attributes.iter().any(|a| a == "email") && !email.is_empty() {
        email.clone()
    } else {
        form.first("phone_number")
            .unwrap_or_default()
            .trim()
            .to_string()
    };
    let mut attributes = Vec::new();
    for (name, value) in form.iter() {
        if matches!(name, "username" | "password" | "_csrf") || value.trim().is_empty() {
            continue;
        }
        if pool.schema_attribute(name).is_some() {
            attributes.push((name, value.trim()));
        }
    }
    let password = form.first("password").unwrap_or_default();
    let hosted_ui =
        match crate::oidc::domain::confirmation_link_base(ctx.env, ctx.config, &request.pool).await
        {
            Ok(base) => base,
            Err(e) => return page(ctx, request, Some(&user_message(&e)), form, 500).await,
        };
    let input = crate::registration::sign_up::SignUp {
        username: &username,
        password,
        proof: crate::pool::ClientProof::HostedUi,
        attributes: attributes
            .iter()
            .map(|(name, value)| (name.to_string(), value.to_string()))
            .collect(),
        validation_data: alloc::collections::BTreeMap::new(),
        client_metadata: alloc::collections::BTreeMap::new(),
        hosted_ui: hosted_ui.as_deref(),
    };
    let signed_up =
        crate::registration::sign_up::sign_up(ctx.env, &request.pool, &request.client, input).await;
    match signed_up {
        Ok(signed_up) if signed_up.confirmed => {
            login::page(
                ctx,
                request,
                Some("Your account is ready. Sign in."),
                None,
                200,
            )
            .await
        }
        Ok(signed_up) => {
            let delivery = signed_up.delivery.as_ref();
            let destination = delivery.map_or("you", |d| d.destination.as_str());
            if hosted_ui.is_some()
                && delivery.is_some_and(|d| d.medium == crate::ports::Medium::Email)
            {
                let notice = alloc::format!(
                    "We sent a confirmation link to {destination}. Open it, then sign in."
                );
                return login::page(ctx, request, Some(&notice), None, 200).await;
            }
            let notice =
                alloc::format!("We sent a confirmation code to {destination}. Enter it below.");
            confirm::page(ctx, request, &username, Some(&notice), None, 200).await
        }
        Err(e) => page(ctx, request, Some(&user_message(&e)), form, 400).await,
    }
}
