//! Session and API tokens: 32 random bytes given to the holder once, stored
//! only as their SHA-256, compared in constant time.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use jiff::{SignedDuration, Timestamp};
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

/// Hex digits of a token's public id.
pub const PUBLIC_ID_LEN: usize = 10;

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

    /// A short public name of the token: the first 5 bytes of its hash in
    /// hex (10 digits). Listed and typed by administrators (`vitalcore users
    /// tokens`, `users revoke --id`); it says nothing usable about the token.
    pub fn public_id(&self) -> String {
        self.to_hex()[..PUBLIC_ID_LEN].to_string()
    }

    /// The hash prefix a public id stands for, when `id` is one.
    pub fn public_id_bytes(id: &str) -> Option<[u8; PUBLIC_ID_LEN / 2]> {
        let id = id.trim().to_ascii_lowercase();
        if id.len() != PUBLIC_ID_LEN || !id.is_ascii() {
            return None;
        }
        let mut out = [0u8; PUBLIC_ID_LEN / 2];
        for (i, o) in out.iter_mut().enumerate() {
            *o = u8::from_str_radix(&id[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(out)
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
    /// The last request seen with it (updated at most about once a minute).
    pub last_seen_at: Timestamp,
}

impl Session {
    /// A session starting `now` for `hours`.
    pub fn start(token_hash: TokenHash, user_id: &str, now: Timestamp, hours: i64) -> Session {
        Session {
            token_hash,
            user_id: user_id.to_string(),
            created_at: now,
            expires_at: now.checked_add(SignedDuration::from_hours(hours.max(0))).unwrap_or(now),
            last_seen_at: now,
        }
    }

    /// Before its end, and used within `idle` (a session left idle longer ends).
    pub fn is_valid_at(&self, now: Timestamp, idle: SignedDuration) -> bool {
        now < self.expires_at && now.duration_since(self.last_seen_at) < idle
    }

    /// The short public id an administrator names it by (see [`TokenHash::public_id`]).
    pub fn public_id(&self) -> String {
        self.token_hash.public_id()
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
    /// When it stops working by itself (`None`: until revoked).
    pub expires_at: Option<Timestamp>,
}

impl ApiToken {
    pub fn is_valid_at(&self, now: Timestamp) -> bool {
        self.revoked_at.is_none_or(|r| now < r) && self.expires_at.is_none_or(|e| now < e)
    }

    /// The short public id an administrator names it by (see [`TokenHash::public_id`]).
    pub fn public_id(&self) -> String {
        self.token_hash.public_id()
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
    fn public_ids_are_the_hash_prefix_and_validity_needs_no_revocation_expiry_or_idleness() {
        let h = TokenHash::of("abc");
        assert_eq!(h.public_id(), "ba7816bf8f");
        assert_eq!(TokenHash::public_id_bytes("BA7816BF8F"), Some([0xba, 0x78, 0x16, 0xbf, 0x8f]));
        assert_eq!(TokenHash::public_id_bytes("ba7816bf8"), None);
        assert_eq!(TokenHash::public_id_bytes("ba7816bf8g"), None);
        let t0: Timestamp = "2024-05-01T08:00:00Z".parse().unwrap();
        let later = |m: i64| t0 + SignedDuration::from_mins(m);
        let s = Session::start(h, "u-1", t0, 12);
        let idle = SignedDuration::from_mins(30);
        assert!(s.is_valid_at(later(29), idle));
        assert!(!s.is_valid_at(later(30), idle), "idle for 30 minutes");
        let seen = Session { last_seen_at: later(11 * 60 + 50), ..s.clone() };
        assert!(seen.is_valid_at(later(11 * 60 + 59), idle));
        assert!(!seen.is_valid_at(later(12 * 60), idle), "past its end, however recently used");
        let token = ApiToken {
            token_hash: h,
            partner: "p".into(),
            user_id: "u-1".into(),
            created_at: t0,
            revoked_at: None,
            expires_at: Some(later(60)),
        };
        assert!(token.is_valid_at(later(59)) && !token.is_valid_at(later(60)));
        assert!(!ApiToken { revoked_at: Some(later(1)), ..token.clone() }.is_valid_at(later(2)));
    }

    #[test]
    fn sha256_of_known_input() {
        // SHA-256("abc"), FIPS 180-2 test vector.
        assert_eq!(TokenHash::of("abc").to_hex(), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    }
}
