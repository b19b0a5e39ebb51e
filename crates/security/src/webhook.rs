//! Proof that a webhook came from the gateway it claims: Twilio's request
//! signature, and the shared secret an operator gives RapidPro/TextIt.
//! Both are compared in constant time.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// Twilio's "Validating requests" method: base64 of HMAC-SHA1, keyed with
/// the account's auth token, over the full webhook URL followed by every
/// POST parameter name and value, sorted by name. Compared in constant time.
pub fn twilio_signature_matches(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let Some(mac) = twilio_mac(auth_token, url, params) else { return false };
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else { return false };
    mac.verify_slice(&expected).is_ok()
}

/// The `X-Twilio-Signature` Twilio sends with a webhook to `url` carrying
/// `params` (what a test or a gateway simulator signs with).
pub fn twilio_signature(auth_token: &str, url: &str, params: &[(String, String)]) -> String {
    let bytes = twilio_mac(auth_token, url, params).map(|m| m.finalize().into_bytes().to_vec()).unwrap_or_default();
    base64::engine::general_purpose::STANDARD.encode(bytes)
}

fn twilio_mac(auth_token: &str, url: &str, params: &[(String, String)]) -> Option<Hmac<sha1::Sha1>> {
    let mut params: Vec<&(String, String)> = params.iter().collect();
    params.sort_by(|a, b| a.0.cmp(&b.0));
    let mut mac = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(auth_token.as_bytes()).ok()?;
    mac.update(url.as_bytes());
    for (k, v) in params {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    Some(mac)
}

/// The header vitalcore signs its own outgoing webhooks with (notifications
/// to duty officers' systems): `sha256=<hex HMAC-SHA256 of the body>`.
pub const SIGNATURE_HEADER: &str = "X-Vitalcore-Signature";

/// The value of [`SIGNATURE_HEADER`] for `body` under `secret`:
/// `sha256=` and the lower-case hex of HMAC-SHA256(secret, body).
pub fn vitalcore_signature(secret: &str, body: &[u8]) -> String {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key length");
    mac.update(body);
    let digest = mac.finalize().into_bytes();
    let mut out = String::with_capacity(7 + 64);
    out.push_str("sha256=");
    for b in digest {
        out.push_str(&format!("{b:02x}"));
    }
    out
}

/// Whether a [`SIGNATURE_HEADER`] value is `body`'s signature under
/// `secret` (what a receiver checks), compared in constant time.
pub fn vitalcore_signature_matches(secret: &str, body: &[u8], header: &str) -> bool {
    let expected = vitalcore_signature(secret, body);
    let header = header.trim();
    expected.len() == header.len() && bool::from(expected.as_bytes().ct_eq(header.as_bytes()))
}

/// The scheme of the `Authorization` header carrying a shared secret, as
/// RapidPro's own API writes it: `Authorization: Token <secret>`.
pub const SHARED_SECRET_SCHEME: &str = "Token";

/// Fewest characters a shared secret may have (`openssl rand -hex 24` gives 48).
pub const MIN_SHARED_SECRET_CHARS: usize = 16;

/// Whether an `Authorization` header value (`Token <secret>`, the scheme in
/// any case) carries `secret`. Both sides are hashed with SHA-256 first and
/// the digests compared in constant time, so neither the secret's content
/// nor its length shows in the time taken. A missing header, another scheme
/// or an empty configured secret never matches.
pub fn shared_secret_matches(secret: &str, authorization: Option<&str>) -> bool {
    let Some(value) = authorization else { return false };
    let Some((scheme, given)) = value.trim().split_once(' ') else { return false };
    if !scheme.eq_ignore_ascii_case(SHARED_SECRET_SCHEME) || secret.is_empty() {
        return false;
    }
    let expected = Sha256::digest(secret.as_bytes());
    let given = Sha256::digest(given.trim().as_bytes());
    bool::from(expected.ct_eq(&given))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn a_signature_made_here_is_the_one_twilio_documents_and_matches() {
        // Twilio's documented example ("Validating requests"): token 12345.
        let url = "https://mycompany.com/myapp.php?foo=1&bar=2";
        let p = params(&[
            ("CallSid", "CA1234567890ABCDE"),
            ("Caller", "+12349013030"),
            ("Digits", "1234"),
            ("From", "+12349013030"),
            ("To", "+18005551212"),
        ]);
        let signature = twilio_signature("12345", url, &p);
        assert_eq!(signature, "0/KCTR6DLpKmkAf8muzZqo1nDgQ=");
        assert!(twilio_signature_matches("12345", url, &p, &signature));
        assert!(!twilio_signature_matches("12346", url, &p, &signature));
        assert!(!twilio_signature_matches("12345", url, &p[1..], &signature));
        assert!(!twilio_signature_matches("12345", url, &p, ""));
    }

    #[test]
    fn shared_secret_needs_the_token_scheme_and_the_exact_secret() {
        let secret = "s3cret-s3cret-s3cret";
        assert!(shared_secret_matches(secret, Some("Token s3cret-s3cret-s3cret")));
        assert!(shared_secret_matches(secret, Some("token  s3cret-s3cret-s3cret ")));
        for refused in [
            None,
            Some(""),
            Some("Token"),
            Some("Token "),
            Some("Bearer s3cret-s3cret-s3cret"),
            Some("Token s3cret-s3cret-s3cre"),
            Some("Token s3cret-s3cret-s3cret2"),
            Some("s3cret-s3cret-s3cret"),
        ] {
            assert!(!shared_secret_matches(secret, refused), "{refused:?}");
        }
        assert!(!shared_secret_matches("", Some("Token ")), "an empty secret opens nothing");
    }

    #[test]
    fn outgoing_signature_is_hex_hmac_sha256_of_the_body() {
        // The RFC 4231-style reference value everyone quotes for HMAC-SHA256.
        let body = b"The quick brown fox jumps over the lazy dog";
        let sig = vitalcore_signature("key", body);
        assert_eq!(sig, "sha256=f7bc83f430538424b13298e6aa6fb143ef4d59a14946175997479dbc2d1a3cd8");
        assert!(vitalcore_signature_matches("key", body, &sig));
        assert!(!vitalcore_signature_matches("kez", body, &sig));
        assert!(!vitalcore_signature_matches("key", b"The quick brown fox", &sig));
        assert!(!vitalcore_signature_matches("key", body, "sha256="));
    }
}
