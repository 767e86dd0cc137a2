//! The generated admin access key: created on first start when none is configured, kept in
//! `<data dir>/admin-credentials.toml` (mode 0600) and reused on later starts.

use std::io::Write as _;
use std::path::Path;

use anyhow::{Context as _, bail};
use cognate_core::Secret;
use cognate_core::service::AdminKey;
use rand::seq::SliceRandom as _;

pub const FILE_NAME: &str = "admin-credentials.toml";

const ID_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
const SECRET_ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

#[derive(Debug, serde::Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct CredentialsFile {
    access_key_id: String,
    secret_access_key: Secret,
}

fn random_string(alphabet: &[u8], len: usize) -> anyhow::Result<String> {
    (0..len)
        .map(|_| {
            alphabet
                .choose(&mut rand::rngs::OsRng)
                .map(|b| char::from(*b))
                .context("empty alphabet")
        })
        .collect()
}

/// A fresh AWS-style key pair: `AKIA` + 16 upper-case base32 characters, and a 40-character
/// secret (~238 bits).
pub fn generate() -> anyhow::Result<AdminKey> {
    Ok(AdminKey {
        access_key_id: format!("AKIA{}", random_string(ID_ALPHABET, 16)?),
        secret_access_key: Secret::new(random_string(SECRET_ALPHABET, 40)?),
    })
}

/// Loads the key pair from `<data_dir>/admin-credentials.toml`, generating and saving one if
/// the file does not exist. Returns the key and whether it was just created.
pub fn load_or_create(data_dir: &Path) -> anyhow::Result<(AdminKey, bool)> {
    let path = data_dir.join(FILE_NAME);
    match std::fs::read_to_string(&path) {
        Ok(text) => {
            let file: CredentialsFile =
                toml::from_str(&text).with_context(|| format!("invalid {}", path.display()))?;
            if file.access_key_id.is_empty() || file.secret_access_key.expose().is_empty() {
                bail!("{} holds an empty key", path.display());
            }
            warn_if_readable_by_others(&path);
            Ok((
                AdminKey {
                    access_key_id: file.access_key_id,
                    secret_access_key: file.secret_access_key,
                },
                false,
            ))
        }
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => {
            let key = generate()?;
            save(&path, &key)?;
            Ok((key, true))
        }
        Err(e) => Err(e).with_context(|| format!("cannot read {}", path.display())),
    }
}

fn save(path: &Path, key: &AdminKey) -> anyhow::Result<()> {
    let body = toml::to_string(&CredentialsFile {
        access_key_id: key.access_key_id.clone(),
        secret_access_key: key.secret_access_key.clone(),
    })
    .context("cannot encode admin credentials")?;
    let text = format!(
        "# Cognate admin credentials: an AWS SigV4 access key for the administrative APIs.\n\
         # Generated on first start. Keep this file secret; delete it to get a new pair.\n{body}"
    );
    // Written beside the target and renamed over it, so a crash never leaves half a file.
    let tmp = path.with_extension("toml.tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt as _;
        options.mode(0o600);
    }
    let mut file = options
        .open(&tmp)
        .with_context(|| format!("cannot create {}", tmp.display()))?;
    file.write_all(text.as_bytes())
        .and_then(|()| file.sync_all())
        .with_context(|| format!("cannot write {}", tmp.display()))?;
    std::fs::rename(&tmp, path).with_context(|| format!("cannot create {}", path.display()))?;
    Ok(())
}

fn warn_if_readable_by_others(path: &Path) {
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt as _;
        if let Ok(meta) = std::fs::metadata(path)
            && meta.permissions().mode() & 0o077 != 0
        {
            tracing::warn!(path = %path.display(), "admin credentials are readable by other users; chmod 600 it");
        }
    }
    #[cfg(not(unix))]
    let _ = path;
}

#[cfg(test)]
mod tests {
    #![allow(
        clippy::unwrap_used,
        clippy::expect_used,
        clippy::panic,
        clippy::indexing_slicing
    )]

    use super::*;

    #[test]
    fn generated_keys_look_like_aws_keys() {
        let key = generate().unwrap();
        assert_eq!(key.access_key_id.len(), 20);
        assert!(key.access_key_id.starts_with("AKIA"));
        assert!(
            key.access_key_id
                .chars()
                .all(|c| c.is_ascii_uppercase() || c.is_ascii_digit())
        );
        assert_eq!(key.secret_access_key.expose().len(), 40);
        assert_ne!(generate().unwrap().access_key_id, key.access_key_id);
    }

    #[test]
    fn created_once_then_reused_with_mode_0600() {
        let dir = tempfile::tempdir().unwrap();
        let (first, created) = load_or_create(dir.path()).unwrap();
        assert!(created);
        let (again, created) = load_or_create(dir.path()).unwrap();
        assert!(!created);
        assert_eq!(again.access_key_id, first.access_key_id);
        assert!(
            again
                .secret_access_key
                .ct_eq(first.secret_access_key.expose())
        );
        #[cfg(unix)]
        {
            use std::os::unix::fs::PermissionsExt as _;
            let mode = std::fs::metadata(dir.path().join(FILE_NAME))
                .unwrap()
                .permissions()
                .mode();
            assert_eq!(mode & 0o777, 0o600);
        }
    }
}
