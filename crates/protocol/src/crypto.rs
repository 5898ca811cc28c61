//! End-to-end encrypted channels (`private-encrypted-`, §6.3).
//!
//! Each channel's key is SHA-256(channel name ‖ master key); payloads are NaCl secretbox
//! (XSalsa20-Poly1305) with the MAC first, sent as `{"nonce":b64,"ciphertext":b64}`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as B64;
use crypto_secretbox::aead::{Aead, KeyInit};
use crypto_secretbox::{Key, Nonce, XSalsa20Poly1305};
use sha2::{Digest, Sha256};

/// Length of the master key and of each channel key.
pub const KEY_LEN: usize = 32;
/// Length of a secretbox nonce.
pub const NONCE_LEN: usize = 24;
const MAC_LEN: usize = 16;

/// Why a key or a payload was refused. Decrypting never panics; it returns one of these.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CryptoError {
    #[error("key is not valid base64")]
    KeyNotBase64,
    #[error("key is {0} bytes; it must be 32 (make one with `openssl rand -base64 32`)")]
    KeyLength(usize),
    #[error("encrypted payload is not a JSON object with string `nonce` and `ciphertext`")]
    NotEnvelope,
    #[error("encrypted payload's {0} is not valid base64")]
    NotBase64(&'static str),
    #[error("nonce is {0} bytes; it must be 24")]
    NonceLength(usize),
    #[error("ciphertext is {0} bytes; it must hold at least the 16-byte MAC")]
    CiphertextTooShort(usize),
    #[error("decryption failed: wrong key, or the payload was tampered with")]
    Open,
}

/// Decodes a base64 key (the master key, or a `shared_secret`).
pub fn key_from_base64(text: &str) -> Result<[u8; KEY_LEN], CryptoError> {
    let bytes = B64
        .decode(text.trim())
        .map_err(|_| CryptoError::KeyNotBase64)?;
    <[u8; KEY_LEN]>::try_from(bytes.as_slice()).map_err(|_| CryptoError::KeyLength(bytes.len()))
}

/// The channel's key: SHA-256 of the channel name's bytes followed by the master key.
pub fn shared_secret(channel: &str, master_key: &[u8; KEY_LEN]) -> [u8; KEY_LEN] {
    let mut hasher = Sha256::new();
    hasher.update(channel.as_bytes());
    hasher.update(master_key);
    hasher.finalize().into()
}

/// Base64, as keys travel in auth responses.
pub fn to_base64(bytes: &[u8]) -> String {
    B64.encode(bytes)
}

/// Opens an encrypted event's `data` string and returns the plaintext bytes.
pub fn decrypt(key: &[u8; KEY_LEN], data: &str) -> Result<Vec<u8>, CryptoError> {
    #[derive(serde::Deserialize)]
    struct Envelope {
        nonce: String,
        ciphertext: String,
    }
    let env: Envelope = serde_json::from_str(data).map_err(|_| CryptoError::NotEnvelope)?;
    let nonce = B64
        .decode(env.nonce)
        .map_err(|_| CryptoError::NotBase64("nonce"))?;
    let ciphertext = B64
        .decode(env.ciphertext)
        .map_err(|_| CryptoError::NotBase64("ciphertext"))?;
    if nonce.len() != NONCE_LEN {
        return Err(CryptoError::NonceLength(nonce.len()));
    }
    if ciphertext.len() < MAC_LEN {
        return Err(CryptoError::CiphertextTooShort(ciphertext.len()));
    }
    XSalsa20Poly1305::new(Key::from_slice(key))
        .decrypt(Nonce::from_slice(&nonce), ciphertext.as_slice())
        .map_err(|_| CryptoError::Open)
}

/// Seals `plaintext` with the given nonce and returns the wire `data` string.
/// The nonce must be fresh and random for every message.
pub fn encrypt(key: &[u8; KEY_LEN], plaintext: &[u8], nonce: &[u8; NONCE_LEN]) -> String {
    let ciphertext = XSalsa20Poly1305::new(Key::from_slice(key))
        .encrypt(Nonce::from_slice(nonce), plaintext)
        .expect("secretbox sealing of an in-memory buffer cannot fail");
    serde_json::json!({ "nonce": B64.encode(nonce), "ciphertext": B64.encode(ciphertext) })
        .to_string()
}
