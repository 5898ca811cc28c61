//! REST API request signing and verifying (§7.1).
//!
//! The string to sign is `METHOD\npath\nquery`, where the query holds every parameter but
//! `auth_signature`, keys lowercased, sorted by key, joined `k=v` with `&`, and not URL-escaped.

use md5::{Digest, Md5};

use super::limits::REST_TIMESTAMP_WINDOW_SECS;
use super::signature::{hmac_sha256_hex, verify_hex};

/// Parameters the signer adds itself; callers may not pass them.
pub const RESERVED_PARAMS: [&str; 5] = [
    "auth_key",
    "auth_timestamp",
    "auth_version",
    "auth_signature",
    "body_md5",
];

/// Lowercase hex MD5 of the exact body bytes.
pub fn body_md5(body: &[u8]) -> String {
    hex::encode(Md5::digest(body))
}

/// Builds the string to sign from all parameters except `auth_signature`.
pub fn string_to_sign<K: AsRef<str>, V: AsRef<str>>(
    method: &str,
    path: &str,
    params: &[(K, V)],
) -> String {
    let mut pairs: Vec<(String, &str)> = params
        .iter()
        .filter(|(k, _)| !k.as_ref().eq_ignore_ascii_case("auth_signature"))
        .map(|(k, v)| (k.as_ref().to_ascii_lowercase(), v.as_ref()))
        .collect();
    pairs.sort_by(|a, b| a.0.cmp(&b.0));
    let query: Vec<String> = pairs.iter().map(|(k, v)| format!("{k}={v}")).collect();
    format!(
        "{}\n{}\n{}",
        method.to_ascii_uppercase(),
        path,
        query.join("&")
    )
}

/// Errors from signing a request.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SignError {
    #[error("parameter {0:?} is reserved for the signature")]
    ReservedParam(String),
}

/// Signs a request: returns `params` plus `auth_key`, `auth_timestamp`, `auth_version`,
/// `body_md5` (for a non-empty body) and `auth_signature`, ready to URL-encode.
pub fn sign_request(
    key: &str,
    secret: &str,
    method: &str,
    path: &str,
    params: &[(String, String)],
    body: &[u8],
    timestamp: u64,
) -> Result<Vec<(String, String)>, SignError> {
    if let Some((k, _)) = params
        .iter()
        .find(|(k, _)| RESERVED_PARAMS.iter().any(|r| r.eq_ignore_ascii_case(k)))
    {
        return Err(SignError::ReservedParam(k.clone()));
    }
    let mut all = params.to_vec();
    all.push(("auth_key".into(), key.into()));
    all.push(("auth_timestamp".into(), timestamp.to_string()));
    all.push(("auth_version".into(), "1.0".into()));
    if !body.is_empty() {
        all.push(("body_md5".into(), body_md5(body)));
    }
    let signature = hmac_sha256_hex(
        secret.as_bytes(),
        string_to_sign(method, path, &all).as_bytes(),
    );
    all.push(("auth_signature".into(), signature));
    Ok(all)
}

/// Encodes parameters as a URL query string.
pub fn encode_query(params: &[(String, String)]) -> String {
    form_urlencoded::Serializer::new(String::new())
        .extend_pairs(params.iter())
        .finish()
}

/// Decodes a URL query string into parameters, in order.
pub fn decode_query(query: &str) -> Vec<(String, String)> {
    form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .collect()
}

/// The `info` attribute a publisher asks for to learn how many connections an event reached.
pub const SUBSCRIPTION_COUNT: &str = "subscription_count";

/// An `info` list with `subscription_count` added, unless it is there already.
pub fn with_subscription_count(info: Option<&str>) -> String {
    match info.map(str::trim).filter(|i| !i.is_empty()) {
        None => SUBSCRIPTION_COUNT.to_owned(),
        Some(i) if i.split(',').any(|f| f.trim() == SUBSCRIPTION_COUNT) => i.to_owned(),
        Some(i) => format!("{i},{SUBSCRIPTION_COUNT}"),
    }
}

/// Each channel's `subscription_count` from a trigger's answer
/// (`{"channels":{"name":{"subscription_count":N}}}`); `None` where the server left it out.
pub fn trigger_counts(answer: &serde_json::Value, channels: &[String]) -> Vec<Option<u64>> {
    channels
        .iter()
        .map(|c| answer["channels"][c.as_str()][SUBSCRIPTION_COUNT].as_u64())
        .collect()
}

/// Each event's `subscription_count` from a batch's answer
/// (`{"batch":[{"subscription_count":N},...]}`, index-aligned); `None` where it is missing.
pub fn batch_counts(answer: &serde_json::Value, events: usize) -> Vec<Option<u64>> {
    (0..events)
        .map(|i| answer["batch"][i][SUBSCRIPTION_COUNT].as_u64())
        .collect()
}

/// The names of `GET /channels`' answer (`{"channels":{"name":{...}}}`), at most `max`.
pub fn occupied_channels(answer: &serde_json::Value, max: usize) -> Vec<String> {
    answer["channels"]
        .as_object()
        .map(|m| m.keys().take(max).cloned().collect())
        .unwrap_or_default()
}

/// Why a signed request was refused. The messages say exactly what is wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum VerifyError {
    #[error("missing required parameter `{0}`")]
    Missing(&'static str),
    #[error("unknown auth_key {0:?}")]
    UnknownKey(String),
    #[error("unsupported auth_version {0:?}; expected 1.0")]
    BadVersion(String),
    #[error("auth_timestamp {0:?} is not a number of seconds")]
    BadTimestamp(String),
    #[error(
        "timestamp expired: auth_timestamp {timestamp} is {skew} s from the server's time {now}; \
         the limit is {REST_TIMESTAMP_WINDOW_SECS} s (check the clock)"
    )]
    Expired { timestamp: u64, now: u64, skew: u64 },
    #[error("body_md5 is missing, but the request has a body")]
    MissingBodyMd5,
    #[error("body_md5 {got:?} does not match the body, whose MD5 is {expected:?}")]
    BodyMd5Mismatch { got: String, expected: String },
    #[error(
        "invalid signature: expected HMAC SHA256 hex digest of {string_to_sign:?}, but got {got:?}"
    )]
    BadSignature { string_to_sign: String, got: String },
}

/// Verifies a signed request against `key`/`secret`, at server time `now` (Unix seconds).
/// The body's MD5 is recomputed from the bytes, never trusted from the parameter.
pub fn verify_request(
    key: &str,
    secret: &str,
    method: &str,
    path: &str,
    params: &[(String, String)],
    body: &[u8],
    now: u64,
) -> Result<(), VerifyError> {
    verify_query(key, secret, method, path, params, !body.is_empty(), now)?;
    verify_body(params, body)
}

/// Verifies the body against the query's `body_md5` (required when there is a body): the
/// rest of a request whose query [`verify_query`] passed before the body was read.
pub fn verify_body(params: &[(String, String)], body: &[u8]) -> Result<(), VerifyError> {
    let got = params
        .iter()
        .find(|(k, _)| k.eq_ignore_ascii_case("body_md5"))
        .map(|(_, v)| v.as_str());
    match got {
        None if body.is_empty() => Ok(()),
        None => Err(VerifyError::MissingBodyMd5),
        Some(got) => {
            let expected = body_md5(body);
            if got.eq_ignore_ascii_case(&expected) {
                Ok(())
            } else {
                Err(VerifyError::BodyMd5Mismatch {
                    got: got.to_owned(),
                    expected,
                })
            }
        }
    }
}

/// Verifies everything of a signed request but its body: the key, version, timestamp and
/// the signature over the query (which covers `body_md5`, so the body is checked against it
/// later, once read). A server checks this before it reads a stranger's body. `has_body`:
/// whether a body comes (then `body_md5` is required).
pub fn verify_query(
    key: &str,
    secret: &str,
    method: &str,
    path: &str,
    params: &[(String, String)],
    has_body: bool,
    now: u64,
) -> Result<(), VerifyError> {
    let get = |name: &'static str| {
        params
            .iter()
            .find(|(k, _)| k.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    };
    let got_key = get("auth_key").ok_or(VerifyError::Missing("auth_key"))?;
    let timestamp = get("auth_timestamp").ok_or(VerifyError::Missing("auth_timestamp"))?;
    let version = get("auth_version").ok_or(VerifyError::Missing("auth_version"))?;
    let signature = get("auth_signature").ok_or(VerifyError::Missing("auth_signature"))?;
    if got_key != key {
        return Err(VerifyError::UnknownKey(got_key.to_owned()));
    }
    if version != "1.0" {
        return Err(VerifyError::BadVersion(version.to_owned()));
    }
    let ts: u64 = timestamp
        .parse()
        .map_err(|_| VerifyError::BadTimestamp(timestamp.to_owned()))?;
    let skew = now.abs_diff(ts);
    if skew > REST_TIMESTAMP_WINDOW_SECS {
        return Err(VerifyError::Expired {
            timestamp: ts,
            now,
            skew,
        });
    }
    if has_body && get("body_md5").is_none() {
        return Err(VerifyError::MissingBodyMd5);
    }
    let string = string_to_sign(method, path, params);
    if verify_hex(secret.as_bytes(), string.as_bytes(), signature) {
        Ok(())
    } else {
        Err(VerifyError::BadSignature {
            string_to_sign: string,
            got: signature.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn subscription_count_is_asked_for_once() {
        assert_eq!(with_subscription_count(None), "subscription_count");
        assert_eq!(with_subscription_count(Some(" ")), "subscription_count");
        assert_eq!(
            with_subscription_count(Some("user_count")),
            "user_count,subscription_count"
        );
        assert_eq!(
            with_subscription_count(Some("subscription_count,user_count")),
            "subscription_count,user_count"
        );
    }

    #[test]
    fn counts_are_read_from_trigger_and_batch_answers() {
        let answer = json!({"channels": {"a": {"subscription_count": 3}, "b": {"user_count": 1}}});
        let channels = ["a".to_owned(), "b".to_owned(), "c".to_owned()];
        assert_eq!(trigger_counts(&answer, &channels), [Some(3), None, None]);
        assert_eq!(trigger_counts(&json!({}), &channels[..1]), [None]);
        assert_eq!(trigger_counts(&json!({"ok": true}), &channels[..1]), [None]);
        let answer = json!({"batch": [{"subscription_count": 0}, {}, {"subscription_count": 2}]});
        assert_eq!(batch_counts(&answer, 4), [Some(0), None, Some(2), None]);
        assert_eq!(batch_counts(&json!([]), 1), [None]);
    }

    #[test]
    fn occupied_channels_are_the_answers_keys() {
        let answer = json!({"channels": {"x": {}, "y": {"subscription_count": 1}, "z": {}}});
        assert_eq!(occupied_channels(&answer, 10), ["x", "y", "z"]);
        assert_eq!(occupied_channels(&answer, 2), ["x", "y"]);
        assert!(occupied_channels(&json!({"channels": []}), 10).is_empty());
    }
}
