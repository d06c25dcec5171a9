//! The text a formula was parsed from, kept with it so that what the log stores is by
//! construction what was calculated.

use std::fmt;
use std::sync::Arc;

/// The exact text of a formula file as read (a byte-order mark included) and its SHA-256.
/// Shared, not copied, by the clones of a formula a batch makes.
#[derive(Clone)]
pub struct SourceText {
    text: Arc<str>,
    sha256: String,
}

impl SourceText {
    pub fn new(text: &str) -> SourceText {
        use sha2::Digest as _;
        const HEX: &[u8; 16] = b"0123456789abcdef";
        let digest = sha2::Sha256::digest(text.as_bytes());
        let mut sha256 = String::with_capacity(64);
        for b in digest {
            sha256.push(char::from(HEX[usize::from(b >> 4)]));
            sha256.push(char::from(HEX[usize::from(b & 0xf)]));
        }
        SourceText {
            text: text.into(),
            sha256,
        }
    }

    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// The SHA-256 of the text's UTF-8 bytes, in lowercase hexadecimal.
    pub fn sha256(&self) -> &str {
        &self.sha256
    }
}

/// The text is long and says nothing its hash does not identify.
impl fmt::Debug for SourceText {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SourceText(sha256 {})", self.sha256)
    }
}
