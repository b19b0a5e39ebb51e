//! CSRF tokens for HTML forms: HMAC-SHA256 of the session and an issue time
//! under a server secret (the "HMAC-based token" pattern of the OWASP CSRF
//! Prevention Cheat Sheet). Nothing to store; a token is valid for one
//! session and for a bounded time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::{Hmac, KeyInit, Mac};
use jiff::{SignedDuration, Timestamp};
use secrecy::{ExposeSecret, SecretBox};
use sha2::Sha256;
use std::fmt;
use thiserror::Error;

use super::token::TokenHash;

#[derive(Debug, Error, PartialEq)]
pub enum CsrfError {
    #[error("the form has no security token; reload the page and submit again")]
    Missing,
    #[error("the form's security token is not valid for this session; reload the page and submit again")]
    Invalid,
    #[error("the form was opened too long ago; reload the page and submit again")]
    Expired,
}

/// The server's CSRF secret.
pub struct CsrfKey {
    key: SecretBox<[u8; 32]>,
    pub max_age: SignedDuration,
}

impl fmt::Debug for CsrfKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "CsrfKey(redacted, max age {})", self.max_age)
    }
}

impl CsrfKey {
    pub fn new(key: [u8; 32]) -> CsrfKey {
        CsrfKey { key: SecretBox::new(Box::new(key)), max_age: SignedDuration::from_hours(8) }
    }

    pub fn generate() -> Result<CsrfKey, crate::crypto::CryptoError> {
        let mut key = [0u8; 32];
        getrandom::fill(&mut key).map_err(|e| crate::crypto::CryptoError::Random(e.to_string()))?;
        Ok(CsrfKey::new(key))
    }

    fn mac(&self, session: &TokenHash, issued: i64) -> Hmac<Sha256> {
        let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(self.key.expose_secret()).expect("any key length");
        mac.update(b"vitalcore csrf v1");
        mac.update(&session.0);
        mac.update(&issued.to_be_bytes());
        mac
    }

    /// A token to put in a hidden form field: `<issued seconds>.<base64url mac>`.
    pub fn issue(&self, session: &TokenHash, now: Timestamp) -> String {
        let issued = now.as_second();
        let tag = self.mac(session, issued).finalize().into_bytes();
        format!("{issued}.{}", URL_SAFE_NO_PAD.encode(tag))
    }

    /// Checks a token posted with a form against the session it was issued for.
    pub fn verify(&self, session: &TokenHash, presented: Option<&str>, now: Timestamp) -> Result<(), CsrfError> {
        let presented = presented.map(str::trim).filter(|s| !s.is_empty()).ok_or(CsrfError::Missing)?;
        let (issued, tag) = presented.split_once('.').ok_or(CsrfError::Invalid)?;
        let issued: i64 = issued.parse().map_err(|_| CsrfError::Invalid)?;
        let tag = URL_SAFE_NO_PAD.decode(tag).map_err(|_| CsrfError::Invalid)?;
        // verify_slice compares in constant time.
        self.mac(session, issued).verify_slice(&tag).map_err(|_| CsrfError::Invalid)?;
        let age = now.as_second() - issued;
        if age > self.max_age.as_secs() || age < -300 {
            return Err(CsrfError::Expired);
        }
        Ok(())
    }
}
