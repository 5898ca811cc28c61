//! Encrypted channels: vector B (shared secret) and vector D (round trip) of protocol.md §12.

use protocol::crypto::{self, CryptoError};

const MASTER: &str = "zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=";
const CHANNEL_KEY: &str = "nlr49ISQHz91yS3cy/yWmW8wFMNeTnNL5tNHnbPJcLQ=";
const WIRE: &str = r#"{"nonce":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYX","ciphertext":"33oMbJp4jf9rt7Abv2Sc4QEidySHWH/MlDfFNmdv+bWcdikhl31YXp8="}"#;

fn nonce() -> [u8; 24] {
    std::array::from_fn(|i| i as u8)
}

#[test]
fn b_shared_secret_from_master_key() {
    let master = crypto::key_from_base64(MASTER).unwrap();
    let key = crypto::shared_secret("private-encrypted-bla", &master);
    assert_eq!(crypto::to_base64(&key), CHANNEL_KEY);
}

#[test]
fn d_decrypts_the_reference_payload() {
    let key = crypto::key_from_base64(CHANNEL_KEY).unwrap();
    assert_eq!(
        crypto::decrypt(&key, WIRE).unwrap(),
        br#"{"message":"hello world"}"#
    );
}

#[test]
fn d_encrypt_reproduces_the_reference_payload() {
    let key = crypto::key_from_base64(CHANNEL_KEY).unwrap();
    let wire = crypto::encrypt(&key, br#"{"message":"hello world"}"#, &nonce());
    let a: serde_json::Value = serde_json::from_str(&wire).unwrap();
    let b: serde_json::Value = serde_json::from_str(WIRE).unwrap();
    assert_eq!(a, b);
}

#[test]
fn failures_are_values_not_panics() {
    let key = crypto::key_from_base64(CHANNEL_KEY).unwrap();
    let other = crypto::shared_secret("private-encrypted-other", &key);
    assert_eq!(crypto::decrypt(&other, WIRE), Err(CryptoError::Open));

    let tampered = WIRE.replace("33oM", "43oM");
    assert_eq!(crypto::decrypt(&key, &tampered), Err(CryptoError::Open));

    assert_eq!(
        crypto::decrypt(&key, "not json"),
        Err(CryptoError::NotEnvelope)
    );
    assert_eq!(
        crypto::decrypt(&key, r#"{"nonce":1}"#),
        Err(CryptoError::NotEnvelope)
    );
    assert_eq!(
        crypto::decrypt(&key, r#"{"nonce":"!!","ciphertext":""}"#),
        Err(CryptoError::NotBase64("nonce"))
    );
    assert_eq!(
        crypto::decrypt(&key, r#"{"nonce":"AAEC","ciphertext":""}"#),
        Err(CryptoError::NonceLength(3))
    );
    assert_eq!(
        crypto::decrypt(
            &key,
            r#"{"nonce":"AAECAwQFBgcICQoLDA0ODxAREhMUFRYX","ciphertext":"AAEC"}"#
        ),
        Err(CryptoError::CiphertextTooShort(3))
    );
    assert_eq!(
        crypto::key_from_base64("AAEC"),
        Err(CryptoError::KeyLength(3))
    );
    assert_eq!(crypto::key_from_base64("*"), Err(CryptoError::KeyNotBase64));
}
