//! Value parsers for the flags that become part of a URL (host, cluster, app key, auth
//! endpoints), for the command line and the environment alike. The config file's values go
//! through the same checks when the connection is resolved (`connection.rs`).
//!
//! clap's own message for a rejected value quotes the value, and a pasted URL may carry
//! credentials; these parsers' messages show only what the check chose to show.

use std::ffi::OsStr;

use clap::builder::TypedValueParser;
use clap::error::ErrorKind;

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
