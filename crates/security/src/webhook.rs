//! Signatures that prove a webhook came from the gateway it claims.

use base64::Engine;
use hmac::{Hmac, KeyInit, Mac};

/// Twilio's "Validating requests" method: base64 of HMAC-SHA1, keyed with
/// the account's auth token, over the full webhook URL followed by every
/// POST parameter name and value, sorted by name. Compared in constant time.
pub fn twilio_signature_matches(auth_token: &str, url: &str, params: &[(String, String)], signature: &str) -> bool {
    let mut params: Vec<&(String, String)> = params.iter().collect();
    params.sort_by(|a, b| a.0.cmp(&b.0));
    let Ok(mut mac) = <Hmac<sha1::Sha1> as KeyInit>::new_from_slice(auth_token.as_bytes()) else { return false };
    mac.update(url.as_bytes());
    for (k, v) in params {
        mac.update(k.as_bytes());
        mac.update(v.as_bytes());
    }
    let Ok(expected) = base64::engine::general_purpose::STANDARD.decode(signature.trim()) else { return false };
    mac.verify_slice(&expected).is_ok()
}
