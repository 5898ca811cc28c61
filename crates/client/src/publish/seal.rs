//! What a publisher sends as an event's data: plaintext on most channels, and on
//! `private-encrypted-` channels the sealed envelope the subscribers open (§6.3). Plaintext
//! is never sent to an encrypted channel.

use rand::Rng;

use protocol::channel::classify;
use protocol::crypto::{self, KEY_LEN, NONCE_LEN};
use protocol::safe_text::terminal_safe;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SealError {
    #[error(
        "{0} is end-to-end encrypted: pass --encryption-master-key (base64) to encrypt for it; \
         tickertape does not send plaintext to an encrypted channel"
    )]
    NoKey(String),
    #[error(
        "{0} is end-to-end encrypted, and its data is sealed for it alone: \
         trigger it on its own, not together with other channels"
    )]
    Shared(String),
}

/// The master key, decoded, when one of `channels` is encrypted; a key that is set but not
/// needed is not checked.
pub fn master_key<'a>(
    base64: Option<&str>,
    mut channels: impl Iterator<Item = &'a str>,
) -> Result<Option<[u8; KEY_LEN]>, crypto::CryptoError> {
    if !channels.any(|c| classify(c).is_encrypted()) {
        return Ok(None);
    }
    base64.map(crypto::key_from_base64).transpose()
}

/// Checks a trigger's channel list: an encrypted channel must be the only one.
pub fn check_channels(channels: &[String]) -> Result<(), SealError> {
    match channels.iter().find(|c| classify(c).is_encrypted()) {
        Some(c) if channels.len() > 1 => Err(SealError::Shared(terminal_safe(c).into_owned())),
        _ => Ok(()),
    }
}

/// The data to send on `channel`: `data` itself, or on an encrypted channel `data` sealed
/// with the channel's key (SHA-256 of the name and `master`) under a fresh random nonce.
pub fn seal(
    channel: &str,
    data: &str,
    master: Option<&[u8; KEY_LEN]>,
) -> Result<String, SealError> {
    if !classify(channel).is_encrypted() {
        return Ok(data.to_owned());
    }
    let master = master.ok_or_else(|| SealError::NoKey(terminal_safe(channel).into_owned()))?;
    let mut nonce = [0u8; NONCE_LEN];
    rand::rng().fill(&mut nonce);
    Ok(crypto::encrypt(
        &crypto::shared_secret(channel, master),
        data.as_bytes(),
        &nonce,
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    const MASTER: [u8; KEY_LEN] = [7; KEY_LEN];

    #[test]
    fn encrypted_channels_get_an_envelope_their_key_opens() {
        let channel = "private-encrypted-orders";
        let sealed = seal(channel, r#"{"id":1}"#, Some(&MASTER)).unwrap();
        assert!(!sealed.contains("\"id\""), "{sealed}");
        let opened = crypto::decrypt(&crypto::shared_secret(channel, &MASTER), &sealed).unwrap();
        assert_eq!(opened, br#"{"id":1}"#);
        // A fresh nonce every time.
        assert_ne!(sealed, seal(channel, r#"{"id":1}"#, Some(&MASTER)).unwrap());
        // Another channel's key does not open it.
        let other = crypto::shared_secret("private-encrypted-other", &MASTER);
        assert!(crypto::decrypt(&other, &sealed).is_err());
    }

    #[test]
    fn plaintext_is_refused_for_encrypted_channels_only() {
        assert_eq!(
            seal("private-encrypted-x", "{}", None),
            Err(SealError::NoKey("private-encrypted-x".into()))
        );
        assert_eq!(seal("private-x", "{}", None).unwrap(), "{}");
        assert_eq!(seal("stock_ticker", "{}", Some(&MASTER)).unwrap(), "{}");
    }

    #[test]
    fn an_encrypted_channel_is_triggered_alone() {
        let list = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert!(check_channels(&list(&["private-encrypted-x"])).is_ok());
        assert!(check_channels(&list(&["a", "b"])).is_ok());
        assert!(matches!(
            check_channels(&list(&["a", "private-encrypted-x"])),
            Err(SealError::Shared(_))
        ));
    }
}
