//! The URL of an auth endpoint. Credentials written into it (`https://user:pw@host/auth`) are
//! taken out when it is parsed and sent as Basic auth; the URL that is requested, shown and
//! logged never holds them.

use std::borrow::Cow;
use std::fmt;

use base64::Engine as _;
use percent_encoding::percent_decode_str;

#[derive(Clone, PartialEq, Eq)]
pub struct AuthUrl {
    /// The URL without credentials.
    uri: http::Uri,
    /// `Basic …`, from the credentials the URL had.
    basic: Option<String>,
}

impl AuthUrl {
    /// An http or https URL with a host. The error never quotes the credentials.
    pub fn parse(text: &str) -> Result<AuthUrl, String> {
        let text = text.trim();
        let bad = |why: &str| format!("{} is not {why}", redact(text));
        let (scheme, rest) = text
            .split_once("://")
            .ok_or_else(|| bad("an http(s) URL"))?;
        let scheme = scheme.to_ascii_lowercase();
        if scheme != "http" && scheme != "https" {
            return Err(bad("an http or https URL"));
        }
        let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
        let (authority, path) = rest.split_at(end);
        let (userinfo, host) = match authority.rfind('@') {
            Some(at) => (Some(&authority[..at]), &authority[at + 1..]),
            None => (None, authority),
        };
        let uri: http::Uri = format!("{scheme}://{host}{path}")
            .parse()
            .map_err(|_| bad("a valid URL"))?;
        if uri.host().is_none_or(str::is_empty) {
            return Err(bad("a URL with a host"));
        }
        let basic = userinfo.map(|info| {
            let (user, password) = info.split_once(':').unwrap_or((info, ""));
            let mut plain: Vec<u8> = percent_decode_str(user).collect();
            plain.push(b':');
            plain.extend(percent_decode_str(password));
            format!(
                "Basic {}",
                base64::engine::general_purpose::STANDARD.encode(plain)
            )
        });
        Ok(AuthUrl { uri, basic })
    }

    /// The URL to request (without credentials).
    pub fn uri(&self) -> &http::Uri {
        &self.uri
    }

    /// The `Authorization` header the URL's credentials make, if it had any.
    pub fn basic_auth(&self) -> Option<(String, String)> {
        self.basic
            .as_ref()
            .map(|b| (http::header::AUTHORIZATION.to_string(), b.clone()))
    }
}

impl std::str::FromStr for AuthUrl {
    type Err = String;
    fn from_str(text: &str) -> Result<AuthUrl, String> {
        AuthUrl::parse(text)
    }
}

impl fmt::Display for AuthUrl {
    /// For messages: the query, where tokens often travel, is left out.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&redact(&self.uri.to_string()))
    }
}

impl fmt::Debug for AuthUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("AuthUrl")
            .field("uri", &self.uri.to_string())
            .field("basic", &self.basic.as_ref().map(|_| "***"))
            .finish()
    }
}

/// A URL's text for a message, with any credentials in its authority replaced by `***` and
/// the value of each query parameter (signatures, tokens) by `***`: `?token=***&x=***`. The
/// parameters' names stay, so that a reader can still tell the URLs apart; a parameter with
/// no `=` may itself be a token, and is replaced whole. The fragment goes the same way.
/// Every URL the project prints goes through this.
pub fn redact(url: &str) -> String {
    let (scheme, rest) = match url.split_once("://") {
        Some((s, r)) => (Some(s), r),
        None => (None, url),
    };
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let (authority, tail) = rest.split_at(end);
    let mut shown = match authority.rfind('@') {
        Some(at) => format!("***{}", &authority[at..]),
        None => authority.to_owned(),
    };
    let (path_and_query, fragment) = match tail.split_once('#') {
        Some((before, _)) => (before, Some("***")),
        None => (tail, None),
    };
    match path_and_query.split_once('?') {
        Some((path, query)) => {
            shown.push_str(path);
            shown.push('?');
            shown.push_str(&redact_query(query));
        }
        None => shown.push_str(path_and_query),
    }
    if let Some(fragment) = fragment {
        shown.push('#');
        shown.push_str(fragment);
    }
    match scheme {
        Some(s) => format!("{s}://{shown}"),
        None => shown,
    }
}

/// `text` with every URL in it shown as [`redact`] shows it: for messages that quote an
/// error, an answer or a flag whole. A URL is a scheme and `://`, up to a space, a quote or
/// an angle bracket; punctuation that ends a sentence after it (`.`, `,`, `;`, `:`, `)`,
/// `]`) is left outside it.
pub fn redact_in(text: &str) -> Cow<'_, str> {
    if !text.contains("://") {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let start = rest[..at]
            .char_indices()
            .rev()
            .take_while(|(_, c)| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
            .last()
            .map_or(at, |(i, _)| i);
        let after = at + 3;
        let end = rest[after..]
            .find(|c: char| c.is_whitespace() || matches!(c, '"' | '\'' | '<' | '>' | '`'))
            .map_or(rest.len(), |i| after + i);
        let url = &rest[start..end];
        let trimmed = url.trim_end_matches(['.', ',', ';', ':', ')', ']']);
        out.push_str(&rest[..start]);
        out.push_str(&redact(trimmed));
        out.push_str(&url[trimmed.len()..]);
        rest = &rest[end..];
    }
    out.push_str(rest);
    Cow::Owned(out)
}

/// `a=1&b=2` as `a=***&b=***`; an empty value stays empty, a part with no `=` is `***`.
fn redact_query(query: &str) -> String {
    query
        .split('&')
        .map(|part| match part.split_once('=') {
            Some((name, "")) => format!("{name}="),
            Some((name, _)) => format!("{name}=***"),
            None if part.is_empty() => String::new(),
            None => "***".to_owned(),
        })
        .collect::<Vec<_>>()
        .join("&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn credentials_become_basic_auth_and_never_show() {
        let u = AuthUrl::parse("https://ann:p%40ss@example.com:8443/pusher/auth?x=1").unwrap();
        assert_eq!(
            u.uri().to_string(),
            "https://example.com:8443/pusher/auth?x=1"
        );
        assert_eq!(u.to_string(), "https://example.com:8443/pusher/auth?x=***");
        // base64("ann:p@ss")
        assert_eq!(
            u.basic_auth(),
            Some(("authorization".into(), "Basic YW5uOnBAc3M=".into()))
        );
        assert!(!format!("{u:?}").contains("YW5u"));
        let plain = AuthUrl::parse("http://127.0.0.1:1/auth").unwrap();
        assert_eq!(plain.basic_auth(), None);
        assert_eq!(plain.to_string(), "http://127.0.0.1:1/auth");
    }

    #[test]
    fn bad_urls_are_refused_without_their_credentials() {
        for bad in [
            "ftp://u:s3cr3t@h/",
            "u:s3cr3t@h/auth",
            "http://u:s3cr3t@/auth",
            "http://u:s3cr3t@h h/auth",
            "",
        ] {
            let e = AuthUrl::parse(bad).unwrap_err();
            assert!(!e.contains("s3cr3t"), "{e}");
        }
        assert_eq!(redact("https://u:pw@h:1/p@q"), "https://***@h:1/p@q");
        assert_eq!(redact("h/x"), "h/x");
        assert_eq!(
            redact("http://127.0.0.1:7014/hook?token=TOKSECRET"),
            "http://127.0.0.1:7014/hook?token=***"
        );
        assert_eq!(
            redact("https://u@h/a?sig=abc&empty=&BARE#frag"),
            "https://***@h/a?sig=***&empty=&***#***"
        );
        assert_eq!(redact("http://h/p@q?x=1"), "http://h/p@q?x=***");
    }

    #[test]
    fn urls_inside_a_message_are_redacted_and_the_rest_kept() {
        assert_eq!(
            redact_in(
                "request to http://h:1/apps/1/events?auth_key=k&auth_signature=abc timed out"
            ),
            "request to http://h:1/apps/1/events?auth_key=***&auth_signature=*** timed out"
        );
        assert_eq!(
            redact_in("--node \"ws://ann:PW@h:1/?token=TOK\": no path, query or user"),
            "--node \"ws://***@h:1/?token=***\": no path, query or user"
        );
        assert_eq!(
            redact_in("see <https://u:PW@x.test/a?t=TOK>, then (wss://h/?k=TOK)."),
            "see <https://***@x.test/a?t=***>, then (wss://h/?k=***)."
        );
        assert_eq!(redact_in("no URL: a=1?b"), "no URL: a=1?b");
        assert_eq!(redact_in("é://x?a=1 ://y?b=2"), "é://x?a=*** ://y?b=***");
        let twice = redact_in("http://u:p@h/?t=1").into_owned();
        assert_eq!(redact_in(&twice), twice, "redacting is idempotent");
    }
}
