//! Reporter contacts sealed at rest with XChaCha20-Poly1305.
//!
//! The operator provides a 32-byte key (64 hex digits or base64). Each value
//! gets a fresh random 24-byte nonce and is bound to its report's reference
//! (the AEAD's associated data), so a sealed contact copied onto another
//! report does not open. The stored text is versioned:
//! `vc1.<key id>.<base64url(nonce || ciphertext || tag)>`, where the key id
//! is the first 4 bytes of a SHA-256 of the key, so a wrong key is named as
//! such instead of producing garbage.
//!
//! Opening a contact requires an [`Accessor`] and a purpose and returns the
//! [`ContactRead`] audit record together with the plaintext.

use crate::auth::Role;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretBox, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use thiserror::Error;
use zeroize::Zeroize;

const FORMAT_VERSION: &str = "vc1";
const NONCE_LEN: usize = 24;
const TAG_LEN: usize = 16;

#[derive(Debug, Error, PartialEq)]
pub enum CryptoError {
    #[error("the contact key must be 32 bytes written as 64 hex digits or as base64 (44 characters); got {0}")]
    BadKey(String),
    #[error(
        "this contact was sealed with another key (key id {found}); the configured key has id {configured}. \
         Configure the key the data was sealed with"
    )]
    WrongKey { found: String, configured: String },
    #[error("the sealed contact does not open: it was altered, truncated, or belongs to another report")]
    Tampered,
    #[error("`{0}` is not a sealed contact: expected vc1.<key id>.<data>")]
    Malformed(String),
    #[error("sealed contact format `{0}` is not supported by this version")]
    UnsupportedVersion(String),
    #[error("a reason for reading the contact is required (it goes to the audit log)")]
    NoPurpose,
    #[error("the system's random number generator failed: {0}")]
    Random(String),
}

/// The operator's contact key. Zeroed on drop and never printed.
pub struct ContactKey {
    key: SecretBox<[u8; 32]>,
    id: String,
}

impl fmt::Debug for ContactKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "ContactKey(id {}, secret redacted)", self.id)
    }
}

impl ContactKey {
    /// Reads a key written as 64 hex digits or standard base64 (surrounding
    /// whitespace, as in a key file, is ignored).
    pub fn from_text(text: &str) -> Result<ContactKey, CryptoError> {
        let t = text.trim();
        let mut bytes = if t.len() == 64 && t.bytes().all(|b| b.is_ascii_hexdigit()) {
            decode_hex(t)
        } else {
            STANDARD
                .decode(t)
                .or_else(|_| URL_SAFE_NO_PAD.decode(t))
                .map_err(|_| CryptoError::BadKey(describe_bad_key(t)))?
        };
        if bytes.len() != 32 {
            let n = bytes.len();
            bytes.zeroize();
            return Err(CryptoError::BadKey(format!("{n} bytes")));
        }
        let mut key = [0u8; 32];
        key.copy_from_slice(&bytes);
        bytes.zeroize();
        Ok(ContactKey::from_bytes(key))
    }

    pub fn from_bytes(mut key: [u8; 32]) -> ContactKey {
        let id = key_id(&key);
        let secret = SecretBox::new(Box::new(key));
        key.zeroize();
        ContactKey { key: secret, id }
    }

    /// A new random key and its hex spelling, for `vitalcore` setup.
    pub fn generate() -> Result<(ContactKey, SecretString), CryptoError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| CryptoError::Random(e.to_string()))?;
        let hex: String = key.iter().map(|b| format!("{b:02x}")).collect();
        Ok((ContactKey::from_bytes(key), SecretString::from(hex)))
    }

    /// Key id: first 4 bytes of SHA-256("vitalcore contact key id" || key), in hex.
    pub fn id(&self) -> &str {
        &self.id
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new_from_slice(self.key.expose_secret()).expect("key is 32 bytes")
    }

    /// Seals `contact` for the report `reference`.
    pub fn seal(&self, contact: &SecretString, reference: &str) -> Result<SealedContact, CryptoError> {
        let mut nonce = [0u8; NONCE_LEN];
        getrandom::fill(&mut nonce).map_err(|e| CryptoError::Random(e.to_string()))?;
        let payload = Payload { msg: contact.expose_secret().as_bytes(), aad: reference.as_bytes() };
        let ciphertext =
            self.cipher().encrypt(&XNonce::from(nonce), payload).expect("encryption with a valid key does not fail");
        let mut data = Vec::with_capacity(NONCE_LEN + ciphertext.len());
        data.extend_from_slice(&nonce);
        data.extend_from_slice(&ciphertext);
        Ok(SealedContact(format!("{FORMAT_VERSION}.{}.{}", self.id, URL_SAFE_NO_PAD.encode(data))))
    }

    /// Opens a sealed contact, producing the audit record of the read.
    /// `purpose` is why the contact is read ("call back about the alert").
    pub fn open(
        &self,
        sealed: &SealedContact,
        reference: &str,
        accessor: &Accessor,
        purpose: &str,
        at: Timestamp,
    ) -> Result<RevealedContact, CryptoError> {
        if purpose.trim().is_empty() {
            return Err(CryptoError::NoPurpose);
        }
        let contact = self.decrypt(sealed, reference)?;
        let audit = ContactRead {
            report: reference.to_string(),
            user_id: accessor.user_id.clone(),
            role: accessor.role,
            purpose: purpose.trim().to_string(),
            at,
        };
        Ok(RevealedContact { audit, contact })
    }

    fn decrypt(&self, sealed: &SealedContact, reference: &str) -> Result<SecretString, CryptoError> {
        let (version, kid, data) = sealed.parts()?;
        if version != FORMAT_VERSION {
            return Err(CryptoError::UnsupportedVersion(version.to_string()));
        }
        if kid != self.id {
            return Err(CryptoError::WrongKey { found: kid.to_string(), configured: self.id.clone() });
        }
        let data = URL_SAFE_NO_PAD.decode(data).map_err(|_| CryptoError::Tampered)?;
        if data.len() < NONCE_LEN + TAG_LEN {
            return Err(CryptoError::Tampered);
        }
        let (nonce, ciphertext) = data.split_at(NONCE_LEN);
        let nonce: [u8; NONCE_LEN] = nonce.try_into().expect("split at nonce length");
        let payload = Payload { msg: ciphertext, aad: reference.as_bytes() };
        let plain = self.cipher().decrypt(&XNonce::from(nonce), payload).map_err(|_| CryptoError::Tampered)?;
        let text = String::from_utf8(plain).map_err(|e| {
            let mut bytes = e.into_bytes();
            bytes.zeroize();
            CryptoError::Tampered
        })?;
        Ok(SecretString::from(text))
    }

    /// A stable pseudonymous reporter id for a contact (HMAC-SHA256 under a
    /// key derived from the contact key), so reports from the same phone can
    /// be linked without storing or showing the number. Spaces, dashes and
    /// a `tel:` prefix are ignored; letters are compared lower-case.
    pub fn pseudonym(&self, contact: &str) -> String {
        let mut subkey: [u8; 32] = Sha256::new()
            .chain_update(b"vitalcore pseudonym key")
            .chain_update(self.key.expose_secret())
            .finalize()
            .into();
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(&subkey).expect("any key length");
        subkey.zeroize();
        let normalised: String = contact
            .trim()
            .trim_start_matches("tel:")
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '(' | ')' | '.'))
            .flat_map(char::to_lowercase)
            .collect();
        mac.update(normalised.as_bytes());
        let digest = mac.finalize().into_bytes();
        format!("r-{}", crate::crockford::crockford(&digest[..10]))
    }
}

fn key_id(key: &[u8; 32]) -> String {
    let digest = Sha256::new().chain_update(b"vitalcore contact key id").chain_update(key).finalize();
    digest[..4].iter().map(|b| format!("{b:02x}")).collect()
}

fn decode_hex(t: &str) -> Vec<u8> {
    (0..t.len()).step_by(2).map(|i| u8::from_str_radix(&t[i..i + 2], 16).expect("checked hex")).collect()
}

fn describe_bad_key(t: &str) -> String {
    format!("{} characters that are neither 64 hex digits nor base64", t.chars().count())
}

/// A contact as stored: ciphertext only. Its `Debug` never shows the data.
#[derive(Clone, PartialEq, Eq)]
pub struct SealedContact(String);

impl SealedContact {
    /// Wraps the stored text (as read back from a database), checking its shape.
    pub fn from_stored(text: &str) -> Result<SealedContact, CryptoError> {
        let sealed = SealedContact(text.to_string());
        sealed.parts()?;
        Ok(sealed)
    }

    /// The text a store persists.
    pub fn as_stored(&self) -> &str {
        &self.0
    }

    /// Id of the key this contact was sealed with.
    pub fn key_id(&self) -> &str {
        self.parts().map(|(_, kid, _)| kid).unwrap_or("")
    }

    fn parts(&self) -> Result<(&str, &str, &str), CryptoError> {
        let mut it = self.0.splitn(3, '.');
        match (it.next(), it.next(), it.next()) {
            (Some(v), Some(k), Some(d)) if !v.is_empty() && !k.is_empty() && !d.is_empty() => Ok((v, k, d)),
            _ => Err(CryptoError::Malformed(shorten(&self.0))),
        }
    }
}

fn shorten(s: &str) -> String {
    if s.chars().count() > 24 { format!("{}...", s.chars().take(24).collect::<String>()) } else { s.to_string() }
}

impl fmt::Debug for SealedContact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SealedContact(key {}, encrypted)", self.key_id())
    }
}

/// Who reads a contact.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Accessor {
    pub user_id: String,
    pub role: Role,
}

/// The audit record of one contact read: who read which report's contact,
/// when and why. The store persists it before the contact is shown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ContactRead {
    pub report: String,
    pub user_id: String,
    pub role: Role,
    pub purpose: String,
    pub at: Timestamp,
}

/// A decrypted contact and the audit record its reading produced.
pub struct RevealedContact {
    pub audit: ContactRead,
    pub contact: SecretString,
}

impl fmt::Debug for RevealedContact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RevealedContact").field("audit", &self.audit).field("contact", &"<redacted>").finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(byte: u8) -> ContactKey {
        ContactKey::from_bytes([byte; 32])
    }

    fn accessor() -> Accessor {
        Accessor { user_id: "u-1".into(), role: Role::Responder }
    }

    #[test]
    fn seal_and_open_round_trip_with_audit() {
        let k = key(7);
        let sealed = k.seal(&SecretString::from("+236 72 00 00 01"), "VC-7K3Q-9MX").unwrap();
        assert!(!sealed.as_stored().contains("72 00"));
        let at: Timestamp = "2024-05-01T10:00:00Z".parse().unwrap();
        let r = k.open(&sealed, "VC-7K3Q-9MX", &accessor(), "call back", at).unwrap();
        assert_eq!(r.contact.expose_secret(), "+236 72 00 00 01");
        assert_eq!(r.audit.report, "VC-7K3Q-9MX");
        assert_eq!(r.audit.user_id, "u-1");
        assert_eq!(r.audit.at, at);
    }

    #[test]
    fn same_contact_seals_differently_each_time() {
        let k = key(7);
        let c = SecretString::from("+23672000001");
        assert_ne!(k.seal(&c, "A").unwrap(), k.seal(&c, "A").unwrap());
    }

    #[test]
    fn wrong_key_is_named_not_garbage() {
        let sealed = key(1).seal(&SecretString::from("x"), "R").unwrap();
        let err = key(2).open(&sealed, "R", &accessor(), "why", Timestamp::UNIX_EPOCH).unwrap_err();
        assert!(matches!(err, CryptoError::WrongKey { .. }), "{err}");
    }

    #[test]
    fn contact_moved_to_another_report_does_not_open() {
        let k = key(3);
        let sealed = k.seal(&SecretString::from("x"), "R1").unwrap();
        let err = k.open(&sealed, "R2", &accessor(), "why", Timestamp::UNIX_EPOCH).unwrap_err();
        assert_eq!(err, CryptoError::Tampered);
    }

    #[test]
    fn key_text_forms() {
        let hex = "00".repeat(32);
        assert!(ContactKey::from_text(&format!("{hex}\n")).is_ok());
        let b64 = STANDARD.encode([9u8; 32]);
        assert_eq!(ContactKey::from_text(&b64).unwrap().id(), key(9).id());
        assert!(matches!(ContactKey::from_text("abcd"), Err(CryptoError::BadKey(_))));
        assert!(!format!("{:?}", key(9)).contains("09"));
    }

    #[test]
    fn pseudonym_is_stable_and_ignores_spelling() {
        let k = key(5);
        assert_eq!(k.pseudonym("+236 72-00-00-01"), k.pseudonym("tel:+23672000001"));
        assert_ne!(k.pseudonym("+23672000001"), k.pseudonym("+23672000002"));
        assert_ne!(k.pseudonym("+23672000001"), key(6).pseudonym("+23672000001"));
    }
}
