//! The operator's list of breached passwords (`--breached-passwords FILE`, `[passwords]
//! breached_file`), checked on every new password through the core's
//! [`PasswordHasher::breached`](cognate_core::ports::PasswordHasher::breached) port.
//!
//! The file has one entry a line, in either form (they may be mixed):
//! - a SHA-1 hash in hex, optionally followed by `:COUNT`: Have I Been Pwned's "Pwned
//!   Passwords" download (`downloader -s` / the ordered-by-hash text file), e.g.
//!   `5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:10434004`;
//! - anything else: a password in plain text (a line of a wordlist), hashed when loaded.
//!
//! Blank lines and lines starting with `#` are skipped. The list is held as a sorted array of
//! 20-byte SHA-1 digests (20 bytes an entry: 1M entries take 20 MB) and a lookup is one binary
//! search over it; the plain password never leaves the process and is never logged.
//!
//! The whole HIBP corpus (~900M hashes) would take ~18 GB this way: give the host a subset
//! (e.g. the hashes seen at least N times), or a k-anonymity range subset, instead.

use std::path::Path;

use anyhow::Context as _;
use sha1::{Digest as _, Sha1};

/// A loaded list of breached passwords.
#[derive(Debug, Default)]
pub struct BreachedPasswords {
    digests: Vec<[u8; 20]>,
}

fn sha1(text: &[u8]) -> [u8; 20] {
    let mut out = [0u8; 20];
    out.copy_from_slice(&Sha1::digest(text));
    out
}

/// A password's line in HIBP's form without the count: its SHA-1 in upper-case hex.
pub fn sha1_hex(password: &str) -> String {
    hex::encode_upper(sha1(password.as_bytes()))
}

/// A line's SHA-1 hex (`HASH` or `HASH:COUNT`), if it is one.
fn hex_digest(line: &str) -> Option<[u8; 20]> {
    let (hash, count) = match line.split_once(':') {
        Some((hash, count)) => (hash, Some(count)),
        None => (line, None),
    };
    if hash.len() != 40 || !count.is_none_or(|c| c.trim().bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    let mut out = [0u8; 20];
    hex::decode_to_slice(hash, &mut out).ok()?;
    Some(out)
}

impl BreachedPasswords {
    /// Reads `path` (see the module documentation for its format).
    pub fn load(path: &Path) -> anyhow::Result<Self> {
        let file = std::fs::File::open(path).with_context(|| {
            format!("cannot open the breached-password file {}", path.display())
        })?;
        Self::from_reader(std::io::BufReader::with_capacity(1 << 20, file))
            .with_context(|| format!("cannot read the breached-password file {}", path.display()))
    }

    /// Reads a list from `reader`.
    pub fn from_reader(mut reader: impl std::io::BufRead) -> anyhow::Result<Self> {
        let mut digests = Vec::new();
        let mut line = Vec::new();
        loop {
            line.clear();
            if reader.read_until(b'\n', &mut line)? == 0 {
                break;
            }
            let text = line.strip_suffix(b"\n").unwrap_or(&line);
            let text = text.strip_suffix(b"\r").unwrap_or(text);
            if text.is_empty() || text.first() == Some(&b'#') {
                continue;
            }
            let digest = std::str::from_utf8(text)
                .ok()
                .and_then(hex_digest)
                .unwrap_or_else(|| sha1(text));
            digests.push(digest);
        }
        digests.sort_unstable();
        digests.dedup();
        digests.shrink_to_fit();
        Ok(Self { digests })
    }

    /// How many distinct passwords the list holds.
    pub fn len(&self) -> usize {
        self.digests.len()
    }

    pub fn is_empty(&self) -> bool {
        self.digests.is_empty()
    }

    /// Whether `password` is in the list.
    pub fn contains(&self, password: &str) -> bool {
        self.digests
            .binary_search(&sha1(password.as_bytes()))
            .is_ok()
    }
}

#[cfg(test)]
mod tests {
    #![allow(clippy::unwrap_used)]

    use super::*;

    #[test]
    fn hibp_lines_and_plain_passwords_are_found_and_others_are_not() {
        // SHA-1("password") = 5BAA61E4..., HIBP's own example.
        let list = BreachedPasswords::from_reader(
            "# comment\r\n5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8:10434004\r\n\ncorrect horse battery staple\nSummer2024!\n"
                .as_bytes(),
        )
        .unwrap();
        assert_eq!(list.len(), 3);
        assert!(list.contains("password"));
        assert!(list.contains("correct horse battery staple"));
        assert!(list.contains("Summer2024!"));
        assert!(!list.contains("Password"));
        assert!(!list.contains("Summer2024"));
        // Lower-case hex is the same hash.
        let lower =
            BreachedPasswords::from_reader("5baa61e4c9b93f3f0682250b6cf8331b7ee68fd8\n".as_bytes())
                .unwrap();
        assert!(lower.contains("password"));
        assert_eq!(
            sha1_hex("password"),
            "5BAA61E4C9B93F3F0682250B6CF8331B7EE68FD8"
        );
    }
}
