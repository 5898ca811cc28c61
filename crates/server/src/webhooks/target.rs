//! Where an app's webhooks go: a URL and the kinds of event it wants. Both are checked when
//! they are read (a flag, a config file entry), before the server starts; the errors never
//! quote a URL's credentials.

use std::collections::BTreeSet;
use std::fmt;

use net::http_url::{AuthUrl, redact};
use protocol::suggest::suggest;
use protocol::webhook::Kind;

/// A webhook's URL: http or https, a host, a port that is not 0. Credentials in it
/// (`https://user:pw@host/hook`) are sent as Basic auth and never shown.
#[derive(Clone, PartialEq, Eq)]
pub struct WebhookUrl(AuthUrl);

impl WebhookUrl {
    pub fn parse(text: &str) -> Result<WebhookUrl, String> {
        let url = AuthUrl::parse(text)?;
        let uri = url.uri();
        let authority = uri.authority().map_or("", |a| a.as_str());
        // After an IPv6 address's brackets, if any: `:PORT`, which must be 1 to 65535.
        let after_host = authority.rsplit(']').next().unwrap_or(authority);
        if let Some((_, port)) = after_host.rsplit_once(':')
            && !matches!(port.parse::<u16>(), Ok(1..))
        {
            return Err(format!(
                "{} has port {port:?}: a port is 1 to 65535",
                redact(text.trim())
            ));
        }
        Ok(WebhookUrl(url))
    }

    /// The URL to request, without credentials.
    pub fn uri(&self) -> String {
        self.0.uri().to_string()
    }

    /// The `Authorization` header its credentials make, if it had any.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        self.0.basic_auth()
    }
}

impl fmt::Display for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(&self.0, f)
    }
}

impl fmt::Debug for WebhookUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "WebhookUrl({self})")
    }
}

impl TryFrom<String> for WebhookUrl {
    type Error = String;
    fn try_from(text: String) -> Result<WebhookUrl, String> {
        WebhookUrl::parse(&text)
    }
}

impl<'de> serde::Deserialize<'de> for WebhookUrl {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<WebhookUrl, D::Error> {
        let text = String::deserialize(d)?;
        WebhookUrl::parse(&text).map_err(serde::de::Error::custom)
    }
}

/// The kind named `name`, or an error with a "did you mean" and the list of kinds.
pub fn parse_kind(name: &str) -> Result<Kind, String> {
    let name = name.trim();
    if let Some(kind) = Kind::parse(name) {
        return Ok(kind);
    }
    let all: Vec<&str> = Kind::ALL.iter().map(|k| k.as_str()).collect();
    let shown = protocol::safe_text::terminal_safe(name);
    let hint = suggest(name, all.iter().copied())
        .first()
        .map(|s| format!(" (did you mean {}?)", s.name))
        .unwrap_or_default();
    Err(format!(
        "unknown webhook event {shown:?}{hint}; the events are {}",
        all.join(", ")
    ))
}

/// A comma list of kinds (`channel_occupied,member_added`).
pub fn parse_kinds(list: &str) -> Result<Kinds, String> {
    let mut kinds = BTreeSet::new();
    for name in list.split(',').filter(|n| !n.trim().is_empty()) {
        kinds.insert(parse_kind(name)?);
    }
    if kinds.is_empty() {
        return Err("the list names no webhook event".into());
    }
    Ok(Kinds(kinds))
}

/// The kinds a target wants.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Kinds(pub BTreeSet<Kind>);

impl Kinds {
    pub fn all() -> Kinds {
        Kinds(Kind::ALL.into_iter().collect())
    }

    pub fn contains(&self, kind: Kind) -> bool {
        self.0.contains(&kind)
    }
}

/// A config file's event name, checked as it is read so that the error names its line.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct KindName(pub Kind);

impl<'de> serde::Deserialize<'de> for KindName {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<KindName, D::Error> {
        let text = String::deserialize(d)?;
        parse_kind(&text)
            .map(KindName)
            .map_err(serde::de::Error::custom)
    }
}

/// One destination of an app's webhooks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Target {
    pub url: WebhookUrl,
    pub kinds: Kinds,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_need_http_a_host_and_a_port() {
        let u = WebhookUrl::parse("http://127.0.0.1:9000/hook").unwrap();
        assert_eq!(u.uri(), "http://127.0.0.1:9000/hook");
        assert!(WebhookUrl::parse("https://example.com/hook").is_ok());
        for bad in [
            "ftp://example.com/",
            "example.com/hook",
            "http:///hook",
            "http://h:0/hook",
            "http://h:/hook",
            "http://h:99999/hook",
            "http://h:x/hook",
            "",
        ] {
            assert!(WebhookUrl::parse(bad).is_err(), "{bad} was accepted");
        }
        let e = WebhookUrl::parse("ftp://ann:s3cr3t@h/").unwrap_err();
        assert!(!e.contains("s3cr3t"), "{e}");
        let with = WebhookUrl::parse("http://ann:pw@h:1/x").unwrap();
        assert!(with.basic_auth().is_some());
        assert!(!with.to_string().contains("pw") && !format!("{with:?}").contains("pw"));
    }

    #[test]
    fn kinds_are_checked_with_a_hint() {
        assert_eq!(
            parse_kinds("channel_occupied, member_added").unwrap(),
            Kinds([Kind::ChannelOccupied, Kind::MemberAdded].into())
        );
        let e = parse_kinds("channel_ocupied").unwrap_err();
        assert!(e.contains("did you mean channel_occupied?"), "{e}");
        let e = parse_kind("member-added").unwrap_err();
        assert!(e.contains("did you mean member_added?"), "{e}");
        assert!(parse_kinds(",").is_err());
        assert!(parse_kind("whatever").unwrap_err().contains("cache_miss"));
    }
}
