//! Value parsers for the connection flags that are checked before anything connects: what
//! becomes part of a URL (host, cluster, app key, auth endpoints), `--ca-file` and
//! `--auth-header`, for the command line and the environment alike. The config file's values go
//! through the same checks when the connection is resolved (`connection.rs`).
//!
//! clap's own message for a rejected value quotes the value, and a pasted URL may carry
//! credentials; these parsers' messages show only what the check chose to show.

use std::ffi::OsStr;
use std::path::PathBuf;

use anyhow::{anyhow, bail};

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;

use net::http_url::AuthUrl;
use net::tls::ExtraRoots;

/// A check of a text value: the value to keep, or why it is wrong.
pub type Check = fn(&str) -> Result<String, String>;

/// A clap value parser from a [`Check`]. A blank value (`PUSHER_HOST=` in a `.env`) passes
/// through as empty, which means unset.
#[derive(Clone, Copy)]
pub struct Checked(pub Check);

impl TypedValueParser for Checked {
    type Value = String;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &OsStr,
    ) -> Result<String, clap::Error> {
        let name = match arg {
            Some(a) => {
                let flag = a
                    .get_long()
                    .map_or_else(|| a.get_id().to_string(), |l| format!("--{l}"));
                match a.get_env().and_then(OsStr::to_str) {
                    Some(env) => format!("{flag} (or {env})"),
                    None => flag,
                }
            }
            None => "a value".into(),
        };
        let fail = |why: String| {
            let mut cmd = cmd.clone();
            cmd.error(ErrorKind::ValueValidation, format!("{name}: {why}"))
        };
        let text = value
            .to_str()
            .ok_or_else(|| fail("the value is not UTF-8".into()))?;
        if text.trim().is_empty() {
            return Ok(String::new());
        }
        (self.0)(text).map_err(fail)
    }
}

/// The value parser of `--ca-file`: a path whose file holds CA certificates.
pub fn parse_ca_file(text: &str) -> Result<PathBuf, String> {
    let path = PathBuf::from(text);
    ExtraRoots::from_pem_file(&path)?;
    Ok(path)
}

/// The value parser of the auth-endpoint flags: the text, if it parses as an [`AuthUrl`].
pub fn check_auth_url(text: &str) -> Result<String, String> {
    AuthUrl::parse(text).map(|_| text.trim().to_owned())
}

/// An auth endpoint from any source. Credentials in the URL become its Basic auth, so an
/// `Authorization` header of `--auth-header` as well would be ambiguous.
pub fn auth_url(
    name: &str,
    text: &Option<String>,
    headers: &[(String, String)],
) -> anyhow::Result<Option<AuthUrl>> {
    let flag = format!("--{}", name.replace('_', "-"));
    let Some(text) = text else { return Ok(None) };
    let url = AuthUrl::parse(text).map_err(|e| anyhow!("{flag}: {e}"))?;
    if url.basic_auth().is_some()
        && headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("authorization"))
    {
        bail!("{flag} has credentials and --auth-header sets Authorization: give one of them");
    }
    Ok(Some(url))
}

pub fn parse_header(text: &str) -> anyhow::Result<(String, String)> {
    let (name, value) = text
        .split_once(':')
        .ok_or_else(|| anyhow!("--auth-header needs the form \"Name: value\""))?;
    let name = name.trim();
    http::HeaderName::from_bytes(name.as_bytes())
        // Not quoted: a header pasted without its colon can put a token in the name part.
        .map_err(|_| {
            anyhow!("--auth-header: the part before the first ':' is not a valid header name")
        })?;
    let value = value.trim();
    http::HeaderValue::from_str(value).map_err(|_| {
        anyhow!("--auth-header {name}: the value has characters a header cannot carry")
    })?;
    Ok((name.to_owned(), value.to_owned()))
}
