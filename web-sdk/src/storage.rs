//! Where tokens are kept: `localStorage` (default), `sessionStorage`, memory, or the app's own
//! object with `getItem`/`setItem`/`removeItem` (sync or async, like Amplify's
//! `KeyValueStorageInterface`). Keys are `cognate.<clientId>.<name>`, so two app clients on one
//! origin never see each other's tokens.

use std::cell::RefCell;
use std::collections::BTreeMap;

use wasm_bindgen::{JsCast as _, JsValue};

use crate::error::{AuthError, Result, from_js, names};
use crate::js;

/// A storage backend.
#[derive(Debug)]
pub enum Backend {
    /// `window.localStorage` / `window.sessionStorage`.
    Web(web_sys::Storage),
    Memory(RefCell<BTreeMap<String, String>>),
    /// The app's object.
    Custom(JsValue),
}

impl Backend {
    /// From `configure`'s `storage` option: `"localStorage"` (or absent), `"sessionStorage"`,
    /// `"memory"`, or an object.
    pub fn from_option(option: &JsValue) -> Result<Self> {
        if option.is_undefined() || option.is_null() {
            return web_storage("localStorage");
        }
        match option.as_string().as_deref() {
            Some("localStorage") => web_storage("localStorage"),
            Some("sessionStorage") => web_storage("sessionStorage"),
            Some("memory") => Ok(Backend::Memory(RefCell::default())),
            Some(other) => Err(AuthError::new(
                names::CONFIG,
                format!(
                    "unknown storage {other:?}: use localStorage, sessionStorage, memory or an object"
                ),
            )),
            None if option.is_object() => Ok(Backend::Custom(option.clone())),
            None => Err(AuthError::new(
                names::CONFIG,
                "storage must be a name or an object",
            )),
        }
    }

    pub async fn get(&self, key: &str) -> Result<Option<String>> {
        match self {
            Backend::Web(s) => s.get_item(key).map_err(|e| from_js(names::CONFIG, e)),
            Backend::Memory(m) => Ok(m.borrow().get(key).cloned()),
            Backend::Custom(o) => Ok(js::call_method(o, "getItem", &[key.into()])
                .await?
                .as_string()),
        }
    }

    pub async fn set(&self, key: &str, value: &str) -> Result<()> {
        match self {
            Backend::Web(s) => s
                .set_item(key, value)
                .map_err(|e| from_js(names::CONFIG, e)),
            Backend::Memory(m) => {
                m.borrow_mut().insert(key.to_owned(), value.to_owned());
                Ok(())
            }
            Backend::Custom(o) => js::call_method(o, "setItem", &[key.into(), value.into()])
                .await
                .map(drop),
        }
    }

    pub async fn remove(&self, key: &str) -> Result<()> {
        match self {
            Backend::Web(s) => s.remove_item(key).map_err(|e| from_js(names::CONFIG, e)),
            Backend::Memory(m) => {
                m.borrow_mut().remove(key);
                Ok(())
            }
            Backend::Custom(o) => js::call_method(o, "removeItem", &[key.into()])
                .await
                .map(drop),
        }
    }
}

/// `window.localStorage` or `window.sessionStorage` (absent in workers and some privacy modes).
fn web_storage(name: &str) -> Result<Backend> {
    js::get(&js_sys::global(), name)
        .dyn_into::<web_sys::Storage>()
        .map(Backend::Web)
        .map_err(|_| AuthError::new(names::CONFIG, format!("{name} is not available here")))
}

/// The tokens a sign-in leaves: only what the server issued.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Tokens {
    pub access_token: String,
    pub id_token: Option<String>,
    pub refresh_token: Option<String>,
}

/// The token store of one app client.
#[derive(Debug)]
pub struct TokenStore {
    backend: Backend,
    prefix: String,
}

const ACCESS: &str = "accessToken";
const ID: &str = "idToken";
const REFRESH: &str = "refreshToken";

impl TokenStore {
    pub fn new(backend: Backend, client_id: &str) -> Self {
        Self {
            backend,
            prefix: format!("cognate.{client_id}."),
        }
    }

    fn key(&self, name: &str) -> String {
        format!("{}{name}", self.prefix)
    }

    pub async fn load(&self) -> Result<Option<Tokens>> {
        let Some(access_token) = self.backend.get(&self.key(ACCESS)).await? else {
            return Ok(None);
        };
        Ok(Some(Tokens {
            access_token,
            id_token: self.backend.get(&self.key(ID)).await?,
            refresh_token: self.backend.get(&self.key(REFRESH)).await?,
        }))
    }

    pub async fn save(&self, tokens: &Tokens) -> Result<()> {
        self.backend
            .set(&self.key(ACCESS), &tokens.access_token)
            .await?;
        for (name, value) in [(ID, &tokens.id_token), (REFRESH, &tokens.refresh_token)] {
            match value {
                Some(value) => self.backend.set(&self.key(name), value).await?,
                None => self.backend.remove(&self.key(name)).await?,
            }
        }
        Ok(())
    }

    pub async fn clear(&self) -> Result<()> {
        for name in [ACCESS, ID, REFRESH] {
            self.backend.remove(&self.key(name)).await?;
        }
        Ok(())
    }

    /// Another value of this client, under its own `name` (prefixed like the tokens).
    pub async fn get_item(&self, name: &str) -> Result<Option<String>> {
        self.backend.get(&self.key(name)).await
    }

    pub async fn set_item(&self, name: &str, value: &str) -> Result<()> {
        self.backend.set(&self.key(name), value).await
    }

    pub async fn remove_item(&self, name: &str) -> Result<()> {
        self.backend.remove(&self.key(name)).await
    }

    /// The remembered device of `username` on this browser, if one was confirmed. It outlives
    /// sign-out (the device stays the same), as Amplify keeps it.
    pub async fn device(&self, username: &str) -> Result<Option<Device>> {
        Ok(self
            .backend
            .get(&self.key(&format!("device.{username}")))
            .await?
            .and_then(|text| serde_json::from_str(&text).ok()))
    }

    pub async fn save_device(&self, username: &str, device: &Device) -> Result<()> {
        let text = serde_json::to_string(device).unwrap_or_default();
        self.backend
            .set(&self.key(&format!("device.{username}")), &text)
            .await
    }

    pub async fn forget_device(&self, username: &str) -> Result<()> {
        self.backend
            .remove(&self.key(&format!("device.{username}")))
            .await
    }
}

/// A device this browser confirmed (ConfirmDevice): its key, group key and the secret only it
/// knows (the server keeps the SRP verifier).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Device {
    pub key: String,
    pub group_key: String,
    pub secret: String,
}
