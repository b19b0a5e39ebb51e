//! Password hashing with argon2id, OWASP parameters (19 MiB, 2 passes, 1 lane).

use argon2::{Algorithm, Argon2, Params, PasswordHasher, PasswordVerifier, Version};
use thiserror::Error;

/// OWASP Password Storage Cheat Sheet, argon2id minimum: m = 19 MiB, t = 2, p = 1.
const MEMORY_KIB: u32 = 19_456;
const PASSES: u32 = 2;
const LANES: u32 = 1;
pub const MIN_PASSWORD_CHARS: usize = 10;
/// Longer inputs are refused so a login form cannot be used to burn CPU.
pub const MAX_PASSWORD_BYTES: usize = 1_024;

#[derive(Debug, Error, PartialEq)]
pub enum PasswordError {
    #[error(
        "the password is too short: use at least {MIN_PASSWORD_CHARS} characters (a phrase of several words is easiest)"
    )]
    TooShort,
    #[error("the password is longer than {MAX_PASSWORD_BYTES} bytes")]
    TooLong,
    #[error("the stored password hash is not readable ({0}); reset this user's password")]
    BadStoredHash(String),
    #[error("password hashing failed: {0}")]
    Hashing(String),
}

fn hasher() -> Argon2<'static> {
    let params = Params::new(MEMORY_KIB, PASSES, LANES, None).expect("constant parameters are valid");
    Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
}

/// Hashes a new password into a PHC string (`$argon2id$v=19$m=19456,t=2,p=1$...`).
pub fn hash_password(password: &str) -> Result<String, PasswordError> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(PasswordError::TooShort);
    }
    if password.len() > MAX_PASSWORD_BYTES {
        return Err(PasswordError::TooLong);
    }
    hasher()
        .hash_password(password.as_bytes())
        .map(|h| h.to_string())
        .map_err(|e| PasswordError::Hashing(e.to_string()))
}

/// True when `password` matches the stored PHC hash. The parameters are read
/// from the hash, so hashes made with older parameters still verify.
pub fn verify_password(password: &str, stored: &str) -> Result<bool, PasswordError> {
    if password.len() > MAX_PASSWORD_BYTES {
        return Ok(false);
    }
    let parsed = argon2::PasswordHash::new(stored).map_err(|e| PasswordError::BadStoredHash(e.to_string()))?;
    Ok(hasher().verify_password(password.as_bytes(), &parsed).is_ok())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hash_then_verify() {
        let h = hash_password("correct horse battery").unwrap();
        assert!(h.starts_with("$argon2id$v=19$m=19456,t=2,p=1$"), "{h}");
        assert!(verify_password("correct horse battery", &h).unwrap());
        assert!(!verify_password("correct horse batterY", &h).unwrap());
        assert_ne!(h, hash_password("correct horse battery").unwrap(), "salts differ");
    }

    #[test]
    fn policy_and_bad_hash() {
        assert_eq!(hash_password("short"), Err(PasswordError::TooShort));
        assert!(matches!(verify_password("whatever long", "not-a-hash"), Err(PasswordError::BadStoredHash(_))));
    }
}
