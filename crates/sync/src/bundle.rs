//! Bundles: what travels between an office and HQ, over HTTPS or on a USB
//! stick. Layout:
//!
//! ```text
//! VCSYNC1\n | u32 big-endian header length | header (JSON) | nonce (24) | ciphertext+tag | HMAC-SHA256 (32)
//! ```
//!
//! The body is JSON, deflated, then sealed with XChaCha20-Poly1305 (the
//! magic and header are the associated data); the HMAC covers everything
//! before it. Both keys derive from the SHA-256 of the office credential
//! (HMAC-SHA256 with a label per use), which both sides hold.

use std::io::{Read, Write};

use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use jiff::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::SyncError;

const MAGIC: &[u8; 8] = b"VCSYNC1\n";
const NONCE_LEN: usize = 24;
const MAC_LEN: usize = 32;
/// The format named in every header.
pub const FORMAT: &str = "vitalcore-sync-v1";
/// Largest header accepted (a header is a few hundred bytes).
const MAX_HEADER: usize = 64 * 1024;
/// Largest body accepted once inflated (a batch of reports is a few MB).
const MAX_BODY: u64 = 1 << 30;

/// What a bundle carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum BundleKind {
    /// Changes from an office to HQ.
    Push,
    /// HQ's answer to a push: what was applied.
    Ack,
    /// An office asking HQ for changes after its cursor.
    PullRequest,
    /// Changes from HQ to an office.
    Pull,
}

/// The clear part of a bundle: who sent it to whom, and what it is.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    pub format: String,
    /// The sender's schema version.
    pub schema: i64,
    pub kind: BundleKind,
    /// The office the bundle is to or from (HQ looks its credential up by it).
    pub office: String,
    pub from_node: String,
    pub to_node: String,
    pub batch_id: String,
    pub created_at: Timestamp,
}

/// The two keys of an office's bundles.
pub struct BundleKeys {
    seal: [u8; 32],
    sign: [u8; 32],
}

impl std::fmt::Debug for BundleKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("BundleKeys(redacted)")
    }
}

fn hmac(key: &[u8], parts: &[&[u8]]) -> [u8; 32] {
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(key).expect("any key length");
    for p in parts {
        mac.update(p);
    }
    mac.finalize().into_bytes().into()
}

/// The SHA-256 of a credential secret (what HQ stores).
pub fn credential_hash(secret: &[u8]) -> [u8; 32] {
    Sha256::digest(secret).into()
}

impl BundleKeys {
    /// The keys of the office whose credential hashes to `hash`.
    pub fn from_credential_hash(hash: &[u8]) -> BundleKeys {
        BundleKeys { seal: hmac(hash, &[b"vitalcore-sync-v1 encrypt"]), sign: hmac(hash, &[b"vitalcore-sync-v1 sign"]) }
    }
}

/// Packs `body` (JSON) under `header`.
pub fn seal(header: &Header, body: &[u8], keys: &BundleKeys) -> Result<Vec<u8>, SyncError> {
    let head = serde_json::to_vec(header).map_err(|e| SyncError::Internal(e.to_string()))?;
    let mut deflated = flate2::write::DeflateEncoder::new(Vec::new(), flate2::Compression::new(6));
    deflated.write_all(body).map_err(|e| SyncError::Internal(e.to_string()))?;
    let deflated = deflated.finish().map_err(|e| SyncError::Internal(e.to_string()))?;
    let mut out = Vec::with_capacity(MAGIC.len() + 4 + head.len() + NONCE_LEN + deflated.len() + 16 + MAC_LEN);
    out.extend_from_slice(MAGIC);
    out.extend_from_slice(
        &u32::try_from(head.len()).map_err(|_| SyncError::Internal("header too long".into()))?.to_be_bytes(),
    );
    out.extend_from_slice(&head);
    let aad = out.clone();
    let mut nonce = [0u8; NONCE_LEN];
    getrandom::fill(&mut nonce).map_err(|e| SyncError::Internal(format!("the random number generator failed: {e}")))?;
    let cipher = XChaCha20Poly1305::new_from_slice(&keys.seal).expect("key is 32 bytes");
    let sealed = cipher
        .encrypt(&XNonce::from(nonce), Payload { msg: &deflated, aad: &aad })
        .map_err(|_| SyncError::Internal("encryption failed".into()))?;
    out.extend_from_slice(&nonce);
    out.extend_from_slice(&sealed);
    let tag = hmac(&keys.sign, &[&out]);
    out.extend_from_slice(&tag);
    Ok(out)
}

/// Reads the clear header (to find the keys), checking nothing else yet.
pub fn peek(bytes: &[u8]) -> Result<Header, SyncError> {
    let (header, _) = split(bytes)?;
    Ok(header)
}

fn split(bytes: &[u8]) -> Result<(Header, usize), SyncError> {
    if bytes.len() < MAGIC.len() + 4 || &bytes[..MAGIC.len()] != MAGIC {
        return Err(SyncError::NotABundle);
    }
    let len = u32::from_be_bytes(bytes[8..12].try_into().expect("4 bytes")) as usize;
    if len > MAX_HEADER || bytes.len() < 12 + len + NONCE_LEN + 16 + MAC_LEN {
        return Err(SyncError::NotABundle);
    }
    let header: Header = serde_json::from_slice(&bytes[12..12 + len]).map_err(|_| SyncError::NotABundle)?;
    if header.format != FORMAT {
        return Err(SyncError::UnknownFormat(header.format));
    }
    Ok((header, 12 + len))
}

/// Checks the signature, decrypts and inflates; returns the header and the body.
pub fn open(bytes: &[u8], keys: &BundleKeys) -> Result<(Header, Vec<u8>), SyncError> {
    let (header, head_end) = split(bytes)?;
    let (signed, tag) = bytes.split_at(bytes.len() - MAC_LEN);
    let expected = hmac(&keys.sign, &[signed]);
    if !bool::from(subtle::ConstantTimeEq::ct_eq(&expected[..], tag)) {
        return Err(SyncError::BadSignature);
    }
    let aad = &bytes[..head_end];
    let nonce: [u8; NONCE_LEN] = signed[head_end..head_end + NONCE_LEN].try_into().expect("24 bytes");
    let cipher = XChaCha20Poly1305::new_from_slice(&keys.seal).expect("key is 32 bytes");
    let deflated = cipher
        .decrypt(&XNonce::from(nonce), Payload { msg: &signed[head_end + NONCE_LEN..], aad })
        .map_err(|_| SyncError::BadSignature)?;
    let mut body = Vec::new();
    flate2::read::DeflateDecoder::new(&deflated[..])
        .take(MAX_BODY)
        .read_to_end(&mut body)
        .map_err(|_| SyncError::BadSignature)?;
    Ok((header, body))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header() -> Header {
        Header {
            format: FORMAT.into(),
            schema: 12,
            kind: BundleKind::Push,
            office: "bambari".into(),
            from_node: "a".into(),
            to_node: "b".into(),
            batch_id: "a:push:0-10".into(),
            created_at: "2026-12-07T20:00:00Z".parse().unwrap(),
        }
    }

    #[test]
    fn a_bundle_opens_with_its_keys_only_and_any_changed_byte_is_refused() {
        let keys = BundleKeys::from_credential_hash(&credential_hash(b"secret one"));
        let body = br#"{"records":[]}"#.repeat(50);
        let bundle = seal(&header(), &body, &keys).unwrap();
        assert!(bundle.len() < body.len(), "deflated: {} of {}", bundle.len(), body.len());
        let (h, b) = open(&bundle, &keys).unwrap();
        assert_eq!((h, b), (header(), body));
        let other = BundleKeys::from_credential_hash(&credential_hash(b"secret two"));
        assert_eq!(open(&bundle, &other).unwrap_err(), SyncError::BadSignature);
        for i in [0, 9, 20, bundle.len() / 2, bundle.len() - 1] {
            let mut bad = bundle.clone();
            bad[i] ^= 1;
            assert!(open(&bad, &keys).is_err(), "byte {i} changed");
        }
        assert_eq!(open(b"hello", &keys).unwrap_err(), SyncError::NotABundle);
    }
}
