//! Channel authorization and user sign-in signatures (§6.1, §6.2).
//!
//! `auth` is the app key, a colon, and the lowercase hex HMAC-SHA256 of a string to sign.

use hmac::{Hmac, Mac};
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Lowercase hex HMAC-SHA256 of `message` under `secret`.
pub fn hmac_sha256_hex(secret: &[u8], message: &[u8]) -> String {
    hex::encode(mac(secret, message).finalize().into_bytes())
}

fn mac(secret: &[u8], message: &[u8]) -> HmacSha256 {
    // HMAC accepts keys of any length, so this cannot fail.
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(message);
    mac
}

/// Checks a hex signature in constant time. Malformed hex is simply a mismatch.
pub fn verify_hex(secret: &[u8], message: &[u8], signature_hex: &str) -> bool {
    match hex::decode(signature_hex) {
        Ok(sig) => mac(secret, message).verify_slice(&sig).is_ok(),
        Err(_) => false,
    }
}

/// Errors from signing or checking an `auth` value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum AuthError {
    #[error("invalid socket id {0:?}: expected digits, a dot, digits (like 1234.5678)")]
    InvalidSocketId(String),
    #[error("auth value should be of the form 'key:signature'")]
    Malformed,
    #[error("auth value names key {got:?}, not this app's key")]
    WrongKey { got: String },
    #[error("invalid signature: expected HMAC SHA256 hex digest of {string_to_sign:?}")]
    BadSignature { string_to_sign: String },
}

/// Socket ids look like `\d+\.\d+`; anything else is refused before signing (§6.1).
pub fn validate_socket_id(socket_id: &str) -> Result<(), AuthError> {
    let ok = socket_id.split_once('.').is_some_and(|(a, b)| {
        !a.is_empty()
            && !b.is_empty()
            && a.bytes().all(|c| c.is_ascii_digit())
            && b.bytes().all(|c| c.is_ascii_digit())
    });
    if ok {
        Ok(())
    } else {
        Err(AuthError::InvalidSocketId(socket_id.to_owned()))
    }
}

/// The string signed to authorize a subscription: `socket_id:channel[:channel_data]`.
pub fn channel_string_to_sign(
    socket_id: &str,
    channel: &str,
    channel_data: Option<&str>,
) -> String {
    match channel_data {
        Some(data) => format!("{socket_id}:{channel}:{data}"),
        None => format!("{socket_id}:{channel}"),
    }
}

/// The string signed to sign a user in: `socket_id::user::user_data`.
pub fn user_string_to_sign(socket_id: &str, user_data: &str) -> String {
    format!("{socket_id}::user::{user_data}")
}

/// The `auth` value for a private, presence or encrypted subscription.
pub fn sign_channel(
    key: &str,
    secret: &str,
    socket_id: &str,
    channel: &str,
    channel_data: Option<&str>,
) -> Result<String, AuthError> {
    validate_socket_id(socket_id)?;
    let string = channel_string_to_sign(socket_id, channel, channel_data);
    Ok(format!(
        "{key}:{}",
        hmac_sha256_hex(secret.as_bytes(), string.as_bytes())
    ))
}

/// The `auth` value for `pusher:signin`.
pub fn sign_user(
    key: &str,
    secret: &str,
    socket_id: &str,
    user_data: &str,
) -> Result<String, AuthError> {
    validate_socket_id(socket_id)?;
    let string = user_string_to_sign(socket_id, user_data);
    Ok(format!(
        "{key}:{}",
        hmac_sha256_hex(secret.as_bytes(), string.as_bytes())
    ))
}

/// Checks an `auth` value against the string it should sign (the server's side). A mismatch
/// reports the expected string to sign, as Pusher does, so a developer can fix their signer.
pub fn verify_auth(
    key: &str,
    secret: &str,
    string_to_sign: &str,
    auth: &str,
) -> Result<(), AuthError> {
    let (got_key, signature) = auth.split_once(':').ok_or(AuthError::Malformed)?;
    if got_key != key {
        return Err(AuthError::WrongKey {
            got: got_key.to_owned(),
        });
    }
    if verify_hex(secret.as_bytes(), string_to_sign.as_bytes(), signature) {
        Ok(())
    } else {
        Err(AuthError::BadSignature {
            string_to_sign: string_to_sign.to_owned(),
        })
    }
}

/// The string a server expected to be signed, from Pusher's error text
/// "Invalid signature: Expected HMAC SHA256 hex digest of X, but got Y".
pub fn expected_string_to_sign(message: &str) -> Option<&str> {
    const START: &str = "hex digest of ";
    let from = message.find(START)? + START.len();
    let rest = &message[from..];
    let end = rest.rfind(", but got").unwrap_or(rest.len());
    Some(rest[..end].trim_matches('"'))
}
