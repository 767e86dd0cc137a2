//! Hosted-UI customization (SetUICustomization): a pool's or a client's CSS and logo.

use alloc::format;
use alloc::string::{String, ToString};

use serde::{Deserialize, Serialize};

use crate::error::Error;
use crate::ports::Env;
use crate::store::keys;

/// A stored UI customization (per pool: client `ALL`; or per client).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct UiCustomization {
    pub css: Option<String>,
    /// The logo, standard base64 of a PNG or JPEG.
    pub image: Option<String>,
    pub image_type: Option<String>,
    pub css_version: String,
    pub created_millis: u64,
    pub modified_millis: u64,
}

impl UiCustomization {
    /// The logo as a `data:` URL (pages inline it: no extra request, nothing external).
    pub fn image_url(&self) -> Option<String> {
        Some(format!(
            "data:{};base64,{}",
            self.image_type.as_deref()?,
            self.image.as_deref()?
        ))
    }
}

/// The customization that applies to a client: its own, else the pool's.
pub async fn ui_customization(
    env: &dyn Env,
    pool_id: &str,
    client_id: Option<&str>,
) -> Result<Option<(String, UiCustomization)>, Error> {
    if let Some(id) = client_id
        && let Some(item) = env
            .store()
            .get(&keys::ui_customization(pool_id, id))
            .await?
    {
        return Ok(Some((id.to_string(), serde_json::from_slice(&item.value)?)));
    }
    match env
        .store()
        .get(&keys::ui_customization(pool_id, "ALL"))
        .await?
    {
        Some(item) => Ok(Some((
            "ALL".to_string(),
            serde_json::from_slice(&item.value)?,
        ))),
        None => Ok(None),
    }
}
