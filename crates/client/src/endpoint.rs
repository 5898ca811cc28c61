//! Where the WebSocket server is, and the connection URL built from validated parts: a cluster
//! is one DNS label, a host is a host name or an IP address, and an app key has the characters
//! keys have. Nothing else can become part of a URL.

use std::net::IpAddr;

/// Where the WebSocket server is.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// A host name or an IP address (an IPv6 address without brackets).
    pub host: String,
    pub port: u16,
    pub tls: bool,
    /// The port to use if the server demands TLS (close 4000).
    pub tls_port: u16,
}

/// The longest app key accepted (Pusher's are 20 characters).
pub const MAX_KEY_LEN: usize = 256;

impl Endpoint {
    /// `ws-{cluster}.pusher.com` over TLS on 443, as pusher-js builds it. `cluster` must have
    /// passed [`validate_cluster`]; the URL refuses it otherwise.
    pub fn cluster(cluster: &str) -> Endpoint {
        Endpoint {
            host: format!("ws-{cluster}.pusher.com"),
            port: 443,
            tls: true,
            tls_port: 443,
        }
    }

    /// `host:port`, with an IPv6 address in brackets, from a validated host.
    fn authority(&self) -> Result<http::uri::Authority, String> {
        let host = validate_host(&self.host)?;
        let text = match host.parse::<IpAddr>() {
            Ok(IpAddr::V6(ip)) => format!("[{ip}]:{}", self.port),
            _ => format!("{host}:{}", self.port),
        };
        text.parse()
            .map_err(|e| format!("cannot build the server's address: {e}"))
    }

    /// The same server over HTTP (https with TLS): the REST API's base URL.
    pub fn http_base(&self) -> Result<http::Uri, String> {
        http::Uri::builder()
            .scheme(if self.tls { "https" } else { "http" })
            .authority(self.authority()?)
            .path_and_query("/")
            .build()
            .map_err(|e| format!("cannot build the REST URL: {e}"))
    }

    /// The connection URL for an app key (§1), from its validated parts. It holds no secret.
    pub fn uri(&self, key: &str) -> Result<http::Uri, String> {
        let authority = self.authority()?;
        validate_app_key(key)?;
        let query = form_urlencoded::Serializer::new(String::new())
            .append_pair("protocol", "7")
            .append_pair("client", "tickertape")
            .append_pair("version", env!("CARGO_PKG_VERSION"))
            .finish();
        http::Uri::builder()
            .scheme(if self.tls { "wss" } else { "ws" })
            .authority(authority)
            .path_and_query(format!("/app/{key}?{query}"))
            .build()
            .map_err(|e| format!("cannot build the connection URL: {e}"))
    }

    /// The connection URL as text, for status lines.
    pub fn url(&self, key: &str) -> String {
        self.uri(key)
            .map_or_else(|e| format!("(no URL: {e})"), |u| u.to_string())
    }

    /// The same server over TLS.
    pub fn with_tls(&self) -> Endpoint {
        Endpoint {
            tls: true,
            port: self.tls_port,
            ..self.clone()
        }
    }
}

/// Text from the user, quoted for a message, as [`net::http_url::redact`] shows a URL: a
/// pasted URL may carry credentials (`user:pw@`, shown `***@`) or a token in its query
/// (`?token=***`).
pub fn quoted(text: &str) -> String {
    format!("{:?}", net::http_url::redact(text))
}

fn is_label(label: &str, extra: &[char]) -> bool {
    (1..=63).contains(&label.len())
        && label
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '-' || extra.contains(&c))
        && !label.starts_with('-')
        && !label.ends_with('-')
}

/// A Pusher cluster (`eu`, `mt1`, `ap-southeast-1`): one DNS label, returned in lower case.
pub fn validate_cluster(text: &str) -> Result<String, String> {
    let cluster = text.trim().to_ascii_lowercase();
    if is_label(&cluster, &[]) {
        Ok(cluster)
    } else {
        Err(format!(
            "{} is not a cluster name: give one DNS label, such as eu, mt1 or us2",
            quoted(text)
        ))
    }
}

/// A host name (labels of letters, digits, `-` and `_`, dot-separated, 253 characters at most)
/// or an IP address (IPv6 with or without brackets). Returned without brackets.
pub fn validate_host(text: &str) -> Result<String, String> {
    let host = text.trim();
    let bare = host
        .strip_prefix('[')
        .and_then(|h| h.strip_suffix(']'))
        .unwrap_or(host);
    if let Ok(ip) = bare.parse::<IpAddr>() {
        return Ok(ip.to_string());
    }
    let name = host.strip_suffix('.').unwrap_or(host);
    if name.len() <= 253 && name.split('.').all(|l| is_label(l, &['_'])) {
        return Ok(name.to_owned());
    }
    let hint = if host.contains("://") || host.contains('/') {
        ": give the host name only, and use --scheme and --port for the rest"
    } else {
        ""
    };
    Err(format!(
        "{} is not a host name or an IP address{hint}",
        quoted(text)
    ))
}

/// An app key: 1 to 256 letters, digits, `-`, `_`, `.` or `~` (so it goes into the URL's path
/// as it is). The key is public, but the message does not repeat it: a secret pasted into the
/// wrong flag must not show.
pub fn validate_app_key(text: &str) -> Result<String, String> {
    let key = text.trim();
    let ok = (1..=MAX_KEY_LEN).contains(&key.len())
        && key
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | '~'));
    if ok {
        Ok(key.to_owned())
    } else {
        Err(format!(
            "the app key must be 1 to {MAX_KEY_LEN} letters, digits, '-', '_', '.' or '~' \
             (this one has {} characters, not all of them those)",
            key.chars().count()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn clusters() {
        assert_eq!(validate_cluster("eu").unwrap(), "eu");
        assert_eq!(validate_cluster(" MT1 ").unwrap(), "mt1");
        assert_eq!(
            validate_cluster("ap-southeast-1").unwrap(),
            "ap-southeast-1"
        );
        for bad in [
            "",
            "eu/../x",
            "a.b",
            "-eu",
            "eu-",
            "e u",
            "eu?x=1",
            "é",
            &"a".repeat(64),
        ] {
            assert!(validate_cluster(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn hosts() {
        for (good, canonical) in [
            ("soketi", "soketi"),
            ("ws.example.com", "ws.example.com"),
            ("ws.example.com.", "ws.example.com"),
            ("my_service-1", "my_service-1"),
            ("127.0.0.1", "127.0.0.1"),
            ("::1", "::1"),
            ("[::1]", "::1"),
            ("[fe80::1]", "fe80::1"),
        ] {
            assert_eq!(validate_host(good).unwrap(), canonical, "{good:?}");
        }
        for bad in [
            "",
            "a b",
            "x/y",
            "ws://h",
            "h:6001",
            "h?x",
            "h#x",
            "a..b",
            "-a",
            "[h]",
            "é.com",
            "user:pw@h",
            &"a.".repeat(130),
        ] {
            assert!(validate_host(bad).is_err(), "{bad:?}");
        }
        let e = validate_host("https://user:pw@example.com").unwrap_err();
        assert!(!e.contains("pw") && e.contains("--scheme"), "{e}");
        // A token in a pasted URL's query, with or without credentials before it.
        for pasted in [
            "https://example.com/app?token=TOKSECRET",
            "https://u:PWSECRET@example.com/?token=TOKSECRET",
            "example.com/?token=TOKSECRET",
        ] {
            let e = validate_host(pasted).unwrap_err();
            assert!(!e.contains("SECRET") && e.contains("token=***"), "{e}");
        }
        let e = validate_cluster("u:PWSECRET@eu?token=TOKSECRET").unwrap_err();
        assert!(!e.contains("SECRET"), "{e}");
    }

    #[test]
    fn keys() {
        for good in ["app-key", "278d425bdf160c739803", "a.b_c~d"] {
            assert_eq!(validate_app_key(good).unwrap(), good);
        }
        for bad in [
            "",
            "k\"y",
            "k y",
            "k/y",
            "k?y",
            "k%20",
            "ké",
            &"k".repeat(257),
        ] {
            let e = validate_app_key(bad).unwrap_err();
            assert!(bad.is_empty() || !e.contains(bad), "{e}");
        }
    }

    #[test]
    fn urls_are_built_from_parts() {
        let e = Endpoint {
            host: "::1".into(),
            port: 6001,
            tls: false,
            tls_port: 443,
        };
        assert_eq!(
            e.uri("k").unwrap().to_string().split('?').next(),
            Some("ws://[::1]:6001/app/k")
        );
        assert!(
            e.uri("k")
                .unwrap()
                .query()
                .unwrap()
                .starts_with("protocol=7&client=tickertape")
        );
        assert!(e.uri("k\"y").is_err());
        let bad = Endpoint {
            host: "a/b".into(),
            ..e
        };
        assert!(bad.uri("k").is_err());
        assert!(bad.url("k").starts_with("(no URL"));
        assert!(Endpoint::cluster("eu/../x").uri("k").is_err());
        assert_eq!(
            Endpoint::cluster("eu")
                .uri("k")
                .unwrap()
                .authority()
                .unwrap()
                .as_str(),
            "ws-eu.pusher.com:443"
        );
    }
}
