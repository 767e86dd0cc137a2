//! Hosted-UI customization: SetUICustomization, GetUICustomization.

use alloc::string::{String, ToString};

use serde::Deserialize;
use serde_json::{Value, json};

use super::{Ctx, input};
use crate::error::Error;
use crate::oidc::branding::{UiCustomization, ui_customization};
use crate::pool;
use crate::store::{Expect, keys};

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct SetUi {
    user_pool_id: String,
    #[serde(default)]
    client_id: Option<String>,
    #[serde(default, rename = "CSS")]
    css: Option<String>,
    #[serde(default)]
    image_file: Option<String>,
}

/// The largest CSS and logo accepted (Cognito: 100 KB logo).
const MAX_CSS: usize = 128 * 1024;

const MAX_IMAGE: usize = 100 * 1024;

/// CSS goes into a `<style>` element: nothing that ends it, imports or fetches.
fn check_css(css: &str) -> Result<(), Error> {
    let lower = css.to_ascii_lowercase();
    if css.len() > MAX_CSS
        || lower.contains('<')
        || lower.contains("@import")
        || lower.contains("url(")
        || lower.contains("expression(")
        || lower.contains('\\')
    {
        return Err(Error::invalid_parameter(
            "CSS must be at most 128 KiB and may not contain '<', '\\', @import, url() or expression().",
        ));
    }
    Ok(())
}

fn image_type(bytes: &[u8]) -> Option<&'static str> {
    if bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
        Some("image/png")
    } else if bytes.starts_with(&[0xff, 0xd8, 0xff]) {
        Some("image/jpeg")
    } else {
        None
    }
}

pub(super) async fn set_ui_customization(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: SetUi = input(body)?;
    pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let client = match req.client_id.as_deref() {
        None | Some("ALL") => "ALL".to_string(),
        Some(id) => {
            pool::load_pool_client(ctx.env, &req.user_pool_id, id).await?;
            id.to_string()
        }
    };
    if let Some(css) = &req.css {
        check_css(css)?;
    }
    let (image, kind) = match &req.image_file {
        Some(b64) => {
            let bytes = crate::codec::b64_decode(b64)
                .ok_or_else(|| Error::invalid_parameter("ImageFile is not valid base64."))?;
            if bytes.len() > MAX_IMAGE {
                return Err(Error::invalid_parameter(
                    "ImageFile must be at most 100 KB.",
                ));
            }
            let kind = image_type(&bytes).ok_or_else(|| {
                Error::invalid_parameter("ImageFile must be a PNG or JPEG image.")
            })?;
            (Some(crate::codec::b64(&bytes)), Some(kind.to_string()))
        }
        None => (None, None),
    };
    let now = ctx.env.clock().now_millis();
    let key = keys::ui_customization(&req.user_pool_id, &client);
    let created = match ctx.env.store().get(&key).await? {
        Some(item) => serde_json::from_slice::<UiCustomization>(&item.value)?.created_millis,
        None => now,
    };
    let record = UiCustomization {
        css: req.css,
        image,
        image_type: kind,
        css_version: crate::ids::random_token(ctx.env.random(), 8),
        created_millis: created,
        modified_millis: now,
    };
    ctx.env
        .store()
        .put(&key, &serde_json::to_vec(&record)?, Expect::Any)
        .await?;
    Ok(json!({ "UICustomization": ui_wire(&req.user_pool_id, &client, Some(&record)) }))
}

fn ui_wire(pool_id: &str, client: &str, record: Option<&UiCustomization>) -> Value {
    let mut v = json!({ "UserPoolId": pool_id, "ClientId": client });
    if let Some(r) = record {
        if let Some(css) = &r.css {
            super::set(&mut v, "CSS", Value::String(css.clone()));
        }
        if let Some(url) = r.image_url() {
            super::set(&mut v, "ImageUrl", Value::String(url));
        }
        super::set(&mut v, "CSSVersion", Value::String(r.css_version.clone()));
        super::set(
            &mut v,
            "CreationDate",
            crate::pool::epoch_seconds(r.created_millis),
        );
        super::set(
            &mut v,
            "LastModifiedDate",
            crate::pool::epoch_seconds(r.modified_millis),
        );
    }
    v
}

#[derive(Deserialize)]
#[serde(rename_all = "PascalCase")]
struct GetUi {
    user_pool_id: String,
    #[serde(default)]
    client_id: Option<String>,
}

pub(super) async fn get_ui_customization(ctx: &Ctx<'_>, body: Value) -> Result<Value, Error> {
    let req: GetUi = input(body)?;
    pool::load_pool(ctx.env, &req.user_pool_id).await?;
    let client = req.client_id.as_deref().filter(|c| *c != "ALL");
    if let Some(id) = client {
        pool::load_pool_client(ctx.env, &req.user_pool_id, id).await?;
    }
    let found = ui_customization(ctx.env, &req.user_pool_id, client).await?;
    let wire = match &found {
        Some((which, record)) => ui_wire(&req.user_pool_id, which, Some(record)),
        None => ui_wire(&req.user_pool_id, client.unwrap_or("ALL"), None),
    };
    Ok(json!({ "UICustomization": wire }))
}
