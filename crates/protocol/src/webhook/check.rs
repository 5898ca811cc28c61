//! Checking a received webhook: which app its key names, and whether its signature is that
//! app's HMAC of the body, with the reason when it is not. Pure: the receiver passes the
//! headers and the body in.
//!
//! A wrong secret and a changed body look the same to HMAC: both give a different digest.
//! What can be told apart is said: a signature that is not hex or not 64 digits long, a
//! signature that another known app's secret makes (the key and the secret do not belong
//! together), and a body that verifies once re-serialised compactly (something on the way
//! rewrote the JSON).

use super::{WebhookBody, sign, verify};

/// An app a receiver knows: its id, key and secret. The secret is only ever used to sign.
#[derive(Clone, Copy, Debug)]
pub struct AppSecret<'a> {
    pub id: &'a str,
    pub key: &'a str,
    pub secret: &'a str,
}

/// Longest unknown key repeated in a reason, in characters (Pusher's keys have 20).
const MAX_KEY_SAID: usize = 64;

/// What was found; never holds a secret, only signatures (digests) and names.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Verdict {
    /// The signature is the app's HMAC of the body.
    Valid,
    /// No `X-Pusher-Key` header: which app sent it is unknown.
    NoKey,
    /// The key is none of the receiver's apps.
    UnknownKey { key: String },
    /// The app is known but no `X-Pusher-Signature` came.
    NoSignature,
    /// The signature is not hexadecimal.
    NotHex,
    /// Hex, but not the 64 digits of an HMAC-SHA256.
    WrongLength { digits: usize },
    /// A well-formed signature that this app's secret does not make for this body.
    Mismatch {
        /// Another known app's secret makes it: key and secret are of different apps.
        other_app: Option<String>,
        /// The body re-serialised as compact JSON verifies: it was rewritten on the way.
        rewritten: bool,
    },
}

/// The verdict, the app the key named (its id) and the signature that app's secret makes.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Check {
    pub app: Option<String>,
    pub verdict: Verdict,
    /// `None` when the app is unknown.
    pub expected: Option<String>,
}

impl Check {
    pub fn is_valid(&self) -> bool {
        self.verdict == Verdict::Valid
    }
}

/// Checks one request: `key` and `signature` are the headers' values, if any.
pub fn check(
    apps: &[AppSecret<'_>],
    key: Option<&str>,
    signature: Option<&str>,
    body: &[u8],
) -> Check {
    let Some(key) = key.map(str::trim) else {
        return Check {
            app: None,
            verdict: Verdict::NoKey,
            expected: None,
        };
    };
    let Some(app) = apps.iter().find(|a| a.key == key) else {
        return Check {
            app: None,
            verdict: Verdict::UnknownKey {
                // Said in the reason: a header can be far longer than any key.
                key: key.chars().take(MAX_KEY_SAID).collect(),
            },
            expected: None,
        };
    };
    let expected = sign(app.secret, body);
    let verdict = match signature.map(str::trim) {
        None | Some("") => Verdict::NoSignature,
        Some(s) if !s.bytes().all(|b| b.is_ascii_hexdigit()) => Verdict::NotHex,
        Some(s) if s.len() != expected.len() => Verdict::WrongLength { digits: s.len() },
        Some(s) if verify(app.secret, body, s) => Verdict::Valid,
        Some(s) => Verdict::Mismatch {
            other_app: apps
                .iter()
                .find(|other| other.key != app.key && verify(other.secret, body, s))
                .map(|other| other.id.to_owned()),
            rewritten: compact_forms(body)
                .iter()
                .any(|form| form != body && verify(app.secret, form, s)),
        },
    };
    Check {
        app: Some(app.id.to_owned()),
        verdict,
        expected: Some(expected),
    }
}

/// The body as a sender would have written it: compact JSON in the order received, and
/// Pusher's own field order. Empty when it is not JSON.
fn compact_forms(body: &[u8]) -> Vec<Vec<u8>> {
    let mut forms = Vec::new();
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body)
        && let Ok(compact) = serde_json::to_vec(&value)
    {
        forms.push(compact);
    }
    if let Ok(parsed) = serde_json::from_slice::<WebhookBody>(body) {
        forms.push(parsed.to_bytes());
    }
    forms
}

impl Verdict {
    /// One sentence for people: what is wrong, and what it points at.
    pub fn reason(&self, app: Option<&str>) -> String {
        let app = app.unwrap_or("?");
        match self {
            Verdict::Valid => "the signature matches the body under the app's secret".into(),
            Verdict::NoKey => {
                "no X-Pusher-Key header, so no app to check the signature against".into()
            }
            Verdict::UnknownKey { key } => format!(
                "key {key:?} is not one of this receiver's apps: give it with --app ID:KEY:SECRET \
                 (or --key and --secret)"
            ),
            Verdict::NoSignature => "no X-Pusher-Signature header".into(),
            Verdict::NotHex => "X-Pusher-Signature is not hexadecimal".into(),
            Verdict::WrongLength { digits } => {
                format!("X-Pusher-Signature has {digits} hex digits; an HMAC-SHA256 has 64")
            }
            Verdict::Mismatch {
                other_app: Some(other),
                ..
            } => format!(
                "the signature is app {other}'s, not app {app}'s: the sender signs with app \
                 {other}'s secret but sends app {app}'s key"
            ),
            Verdict::Mismatch {
                rewritten: true, ..
            } => format!(
                "the body was changed on the way: re-serialised as compact JSON it verifies under \
                 app {app}'s secret, so something between the sender and here (a proxy, a \
                 tunnel, a framework) rewrote the JSON"
            ),
            Verdict::Mismatch { .. } => format!(
                "the signature does not match the body under app {app}'s secret: either the \
                 sender signs with another secret than the one given here for this key, or the body was changed on the \
                 way (HMAC alone cannot tell which)"
            ),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const APPS: [AppSecret<'static>; 2] = [
        AppSecret {
            id: "1",
            key: "app-key",
            secret: "app-secret",
        },
        AppSecret {
            id: "2",
            key: "other-key",
            secret: "other-secret",
        },
    ];
    const BODY: &[u8] = br#"{"time_ms":1,"events":[{"name":"channel_occupied","channel":"c"}]}"#;

    fn run(key: Option<&str>, sig: Option<&str>, body: &[u8]) -> Check {
        check(&APPS, key, sig, body)
    }

    #[test]
    fn a_signature_of_the_keys_app_is_valid() {
        let sig = sign("app-secret", BODY);
        let c = run(Some("app-key"), Some(&sig), BODY);
        assert!(c.is_valid());
        assert_eq!(c.app.as_deref(), Some("1"));
        assert_eq!(c.expected, Some(sig.clone()));
        assert!(run(Some("app-key"), Some(&sig.to_uppercase()), BODY).is_valid());
    }

    #[test]
    fn each_mismatch_has_its_own_reason_and_the_expected_signature() {
        let good = sign("app-secret", BODY);
        assert_eq!(run(None, Some(&good), BODY).verdict, Verdict::NoKey);
        let unknown = run(Some("nope"), Some(&good), BODY);
        assert_eq!(unknown.verdict, Verdict::UnknownKey { key: "nope".into() });
        assert_eq!(unknown.expected, None);
        let cases = [
            (None, Verdict::NoSignature),
            (Some("zz".repeat(32)), Verdict::NotHex),
            (Some("ab".into()), Verdict::WrongLength { digits: 2 }),
            (
                Some(sign("wrong", BODY)),
                Verdict::Mismatch {
                    other_app: None,
                    rewritten: false,
                },
            ),
            (
                Some(sign("other-secret", BODY)),
                Verdict::Mismatch {
                    other_app: Some("2".into()),
                    rewritten: false,
                },
            ),
        ];
        for (sig, verdict) in cases {
            let c = run(Some("app-key"), sig.as_deref(), BODY);
            assert_eq!(c.verdict, verdict);
            assert_eq!(c.expected.as_deref(), Some(good.as_str()));
            let reason = c.verdict.reason(c.app.as_deref());
            assert!(!reason.contains("app-secret") && !reason.contains("other-secret"));
        }
    }

    #[test]
    fn a_body_rewritten_by_a_proxy_is_told_from_a_wrong_secret() {
        let sig = sign("app-secret", BODY);
        let value: serde_json::Value = serde_json::from_slice(BODY).unwrap();
        let pretty = serde_json::to_vec_pretty(&value).unwrap();
        let c = run(Some("app-key"), Some(&sig), &pretty);
        assert_eq!(
            c.verdict,
            Verdict::Mismatch {
                other_app: None,
                rewritten: true
            }
        );
        assert!(c.verdict.reason(Some("1")).contains("rewrote the JSON"));
        // Changed content is not a rewrite.
        let changed = String::from_utf8_lossy(BODY).replace("\"c\"", "\"d\"");
        let c = run(Some("app-key"), Some(&sig), changed.as_bytes());
        assert_eq!(
            c.verdict,
            Verdict::Mismatch {
                other_app: None,
                rewritten: false
            }
        );
        // Not JSON at all: still a plain mismatch, no panic.
        let c = run(Some("app-key"), Some(&sig), b"\xff\x00not json");
        assert!(matches!(c.verdict, Verdict::Mismatch { .. }));
    }
}
