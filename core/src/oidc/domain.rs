//! Hosted-UI domains: a prefix (`my-app`, served as `<base>/my-app/login` or on the host
//! `my-app.<base host>`) or a custom host name, each pinning one pool; how a request's domain is
//! found.

use alloc::format;
use alloc::string::{String, ToString};

use serde::{Deserialize, Serialize};

use crate::config::Config;
use crate::error::Error;
use crate::http::Request;
use crate::pool;
use crate::ports::Env;
use crate::store::keys;

/// A domain: a prefix (`my-app`, served as `<base>/my-app/login` or on the host
/// `my-app.<base host>`) or a custom host name (`auth.example.com`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct DomainRecord {
    pub user_pool_id: String,
    pub domain: String,
    pub custom: bool,
    #[serde(default)]
    pub certificate_arn: Option<String>,
    pub managed_login_version: u32,
    pub created_millis: u64,
}

/// The pool's prefix domain and custom domain, if it has them (DescribeUserPool shows them).
pub async fn pool_domains(
    env: &dyn Env,
    pool_id: &str,
) -> Result<(Option<String>, Option<String>), Error> {
    let read = |custom| async move {
        Ok::<_, Error>(
            env.store()
                .get(&keys::pool_domain(pool_id, custom))
                .await?
                .and_then(|entry| String::from_utf8(entry.value).ok()),
        )
    };
    let (prefix, custom) = futures_util::future::join(read(false), read(true)).await;
    Ok((prefix?, custom?))
}

/// Where the pool's hosted UI is served: its prefix domain (`<base>/<prefix>`), else its custom
/// domain (`<scheme>://<host>`), else the base URL itself (the client id then names the pool).
pub async fn hosted_ui_base(
    env: &dyn Env,
    config: &Config,
    pool_id: &str,
) -> Result<String, Error> {
    let base = config.base_url.trim_end_matches('/');
    Ok(match pool_domains(env, pool_id).await? {
        (Some(prefix), _) => format!("{base}/{prefix}"),
        (None, Some(custom)) => {
            let scheme = base.split_once("://").map_or("https", |(s, _)| s);
            format!("{scheme}://{custom}")
        }
        (None, None) => base.to_string(),
    })
}

/// The hosted UI a pool's confirmation links point to, when its confirmation emails carry a
/// link (`DefaultEmailOption = CONFIRM_WITH_LINK`); `None` when they carry a code.
pub async fn confirmation_link_base(
    env: &dyn Env,
    config: &Config,
    pool: &pool::PoolRecord,
) -> Result<Option<String>, Error> {
    if !pool.confirms_with_link() {
        return Ok(None);
    }
    hosted_ui_base(env, config, &pool.id).await.map(Some)
}

/// A prefix: `^[a-z0-9](?:[a-z0-9\-]{0,61}[a-z0-9])?$` (Cognito's rule).
pub fn is_prefix_domain(d: &str) -> bool {
    (1..=63).contains(&d.len())
        && d.bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
        && !d.starts_with('-')
        && !d.ends_with('-')
}

/// A host name of dot-separated prefixes.
pub fn is_host_name(d: &str) -> bool {
    d.len() <= 253 && d.contains('.') && d.split('.').all(is_prefix_domain)
}

/// Paths the service itself uses; a prefix domain may not shadow them.
pub fn reserved(domain: &str) -> bool {
    matches!(
        domain,
        "oauth2" | "login" | "logout" | "health" | "signup" | "confirm"
    )
}

pub fn domain_host(config: &Config) -> String {
    authority(&config.base_url).to_string()
}

pub fn authority(url: &str) -> &str {
    let rest = url.split_once("://").map_or(url, |(_, r)| r);
    rest.split('/').next().unwrap_or_default()
}

pub async fn load_domain(env: &dyn Env, domain: &str) -> Result<Option<DomainRecord>, Error> {
    let domain = domain.to_ascii_lowercase();
    if !(is_prefix_domain(&domain) || is_host_name(&domain)) {
        return Ok(None);
    }
    match env.store().get(&keys::domain(&domain)).await? {
        Some(item) => Ok(Some(serde_json::from_slice(&item.value)?)),
        None => Ok(None),
    }
}

/// The pool a request's domain pins, and the path below the domain: a custom domain or
/// `<prefix>.<base host>` in the `Host` header, or a prefix as the first path segment
/// (`/<prefix>/login`). Looks anything up only when the host is not the base URL's or the path
/// is not one of ours as it stands, so the plain paths cost no extra read.
pub async fn split_domain_prefix(
    env: &dyn Env,
    config: &Config,
    request: &Request,
) -> Option<(String, String)> {
    let path = request.path.as_str();
    let base = authority(&config.base_url);
    if let Some(host) = request.header("host")
        && !host.eq_ignore_ascii_case(base)
        && crate::oidc::is_oauth_path(path)
    {
        let host_name = host.rsplit_once(':').map_or(host, |(h, port)| {
            if port.bytes().all(|b| b.is_ascii_digit()) {
                h
            } else {
                host
            }
        });
        let base_name = base.rsplit_once(':').map_or(base, |(h, _)| h);
        let candidate = match host_name
            .len()
            .checked_sub(base_name.len() + 1)
            .and_then(|cut| host_name.get(..cut).zip(host_name.get(cut..)))
        {
            Some((prefix, rest))
                if rest
                    .get(1..)
                    .is_some_and(|r| r.eq_ignore_ascii_case(base_name))
                    && rest.starts_with('.')
                    && is_prefix_domain(prefix) =>
            {
                prefix
            }
            _ => host_name,
        };
        if let Ok(Some(record)) = load_domain(env, candidate).await
            && pool::load_pool(env, &record.user_pool_id).await.is_ok()
        {
            return Some((path.to_string(), record.user_pool_id));
        }
        return None;
    }
    if crate::oidc::is_oauth_path(path) {
        return None;
    }
    let rest = path.strip_prefix('/')?;
    let (prefix, below) = rest.split_once('/')?;
    let below = format!("/{below}");
    if !crate::oidc::is_oauth_path(&below) || !is_prefix_domain(prefix) {
        return None;
    }
    let record = load_domain(env, prefix).await.ok()??;
    if record.custom {
        return None;
    }
    pool::load_pool(env, &record.user_pool_id).await.ok()?;
    Some((below, record.user_pool_id))
}
