//! Session and API tokens: 32 random bytes given to the holder once, stored
//! only as their SHA-256, compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::Timestamp;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::fmt;
use subtle::ConstantTimeEq;

use crate::crypto::CryptoError;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenKind {
    /// A browser session (`vcs_` prefix).
    Session,
    /// A partner's API token (`vca_` prefix).
    Api,
}

impl TokenKind {
    fn prefix(self) -> &'static str {
        match self {
            TokenKind::Session => "vcs_",
            TokenKind::Api => "vca_",
        }
    }
}

/// A token as handed to its holder (cookie value or `Authorization: Bearer`).
/// Shown once; only its [`TokenHash`] is stored.
pub struct Token {
    pub kind: TokenKind,
    pub secret: SecretString,
}

impl fmt::Debug for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Token({:?}, redacted)", self.kind)
    }
}

impl Token {
    /// A new token: prefix + base64url of 32 random bytes.
    pub fn generate(kind: TokenKind) -> Result<Token, CryptoError> {
        let mut bytes = [0u8; 32];
        getrandom::fill(&mut bytes).map_err(|e| CryptoError::Random(e.to_string()))?;
        let text = format!("{}{}", kind.prefix(), URL_SAFE_NO_PAD.encode(bytes));
        zeroize::Zeroize::zeroize(&mut bytes);
        Ok(Token { kind, secret: SecretString::from(text) })
    }

    pub fn hash(&self) -> TokenHash {
        TokenHash::of(self.secret.expose_secret())
    }
}

/// SHA-256 of a presented token: what the store keeps and looks up by.
/// (Tokens have 256 bits of entropy, so an unsalted fast hash is enough.)
#[derive(Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct TokenHash(pub [u8; 32]);

impl TokenHash {
    pub fn of(presented: &str) -> TokenHash {
        TokenHash(Sha256::digest(presented.trim().as_bytes()).into())
    }

    /// Constant-time comparison of a presented token with a stored hash.
    pub fn matches(&self, presented: &str) -> bool {
        TokenHash::of(presented).0.ct_eq(&self.0).into()
    }

    pub fn to_hex(&self) -> String {
        self.0.iter().map(|b| format!("{b:02x}")).collect()
    }

    pub fn from_hex(hex: &str) -> Option<TokenHash> {
        if hex.len() != 64 || !hex.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&hex[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(TokenHash(out))
    }
}

impl fmt::Debug for TokenHash {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "TokenHash({}...)", &self.to_hex()[..8])
    }
}

/// A browser session as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Session {
    pub token_hash: TokenHash,
    pub user_id: String,
    pub created_at: Timestamp,
    pub expires_at: Timestamp,
}

impl Session {
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        now < self.expires_at
    }
}

/// A partner's API token as stored.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApiToken {
    pub token_hash: TokenHash,
    /// The partner system's name (goes into the report's channel).
    pub partner: String,
    /// The account whose role the token acts with.
    pub user_id: String,
    pub created_at: Timestamp,
    pub revoked_at: Option<Timestamp>,
}

impl ApiToken {
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none_or(|r| now < r)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_are_random_prefixed_and_match_their_hash_only() {
        let a = Token::generate(TokenKind::Api).unwrap();
        let b = Token::generate(TokenKind::Api).unwrap();
        assert!(a.secret.expose_secret().starts_with("vca_"));
        assert_eq!(a.secret.expose_secret().len(), 4 + 43);
        assert_ne!(a.hash(), b.hash());
        assert!(a.hash().matches(a.secret.expose_secret()));
        assert!(!a.hash().matches(b.secret.expose_secret()));
        assert_eq!(TokenHash::from_hex(&a.hash().to_hex()), Some(a.hash()));
        assert!(!format!("{a:?}").contains(a.secret.expose_secret()));
    }

    #[test]
    fn sha256_of_known_input() {
        // SHA-256("abc"), FIPS 180-2 test vector.
        assert_eq!(TokenHash::of("abc").to_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
