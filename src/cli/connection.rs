//! Connection flags, and their resolution into a [`ClientConfig`].
//!
//! Precedence: command line, then environment (Laravel's and Pusher's names), then the
//! config-file profile, then defaults. clap merges the first two; the profile fills what is
//! still open. Empty
//! environment values count as unset, as in a Laravel `.env` with `PUSHER_HOST=`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::Args;

use super::config_file::{self, Profile};
use super::duration::parse_duration;
use super::target::Checked;
use crate::client::{
    ClientConfig, Endpoint, Secret, validate_app_key, validate_cluster, validate_host,
};
use crate::net::http_url::AuthUrl;
use crate::protocol::crypto;

/// Where the embedded server listens by default, and so where `watch` looks first.
pub const DEFAULT_HOST: &str = "127.0.0.1";
pub const DEFAULT_PORT: u16 = 6001;

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Connection")]
pub struct ConnectionArgs {
    /// App key (public; it is part of the WebSocket URL)
    #[arg(long, env = "PUSHER_APP_KEY", value_parser = Checked(validate_app_key))]
    pub key: Option<String>,
    /// App secret: signs private and presence subscriptions locally. Never printed.
    #[arg(long, env = "PUSHER_APP_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// App id (for the REST API)
    #[arg(long, env = "PUSHER_APP_ID")]
    pub app_id: Option<String>,
    /// Pusher cluster, e.g. eu or mt1: connects to ws-CLUSTER.pusher.com over TLS
    #[arg(long, env = "PUSHER_APP_CLUSTER", value_parser = Checked(validate_cluster))]
    pub cluster: Option<String>,
    /// Server host name or IP [default: 127.0.0.1, the embedded server]
    #[arg(long, env = "PUSHER_HOST", value_parser = Checked(validate_host))]
    pub host: Option<String>,
    /// Server port [default: 6001 for the default host, else 443 with TLS and 80 without]
    #[arg(long, env = "PUSHER_PORT")]
    pub port: Option<String>,
    /// ws or wss (http and https, as Laravel writes them, mean the same)
    #[arg(long, env = "PUSHER_SCHEME")]
    pub scheme: Option<String>,
    /// Auth endpoint for private/presence/encrypted channels (pusher-js's form POST).
    /// Credentials in it (https://user:pw@host/…) are sent as Basic auth, never shown
    #[arg(long, env = "PUSHER_AUTH_ENDPOINT", value_parser = Checked(check_auth_url))]
    pub auth_endpoint: Option<String>,
    /// User-authentication endpoint for signing in (pusher-js's /pusher/user-auth)
    #[arg(long, env = "PUSHER_USER_AUTH_ENDPOINT", value_parser = Checked(check_auth_url))]
    pub user_auth_endpoint: Option<String>,
    /// Header sent to the auth endpoints, as "Name: value" (repeatable)
    #[arg(
        long = "auth-header",
        value_name = "NAME: VALUE",
        env = "TICKERTAPE_AUTH_HEADER",
        hide_env_values = true
    )]
    pub auth_headers: Vec<String>,
    /// Master key of private-encrypted channels, base64 (32 bytes). Never printed.
    #[arg(
        long,
        value_name = "BASE64",
        env = "PUSHER_ENCRYPTION_MASTER_KEY_BASE64",
        hide_env_values = true
    )]
    pub encryption_master_key: Option<String>,
    /// User id for presence channels, and for --signin [default: tickertape-<random>]
    #[arg(long, env = "TICKERTAPE_USER_ID")]
    pub user_id: Option<String>,
    /// Sign in as the user after connecting (pusher-js's `signin()`): signed with --secret,
    /// or by --user-auth-endpoint, which signs in without this flag
    #[arg(long, env = "TICKERTAPE_SIGNIN")]
    pub signin: bool,
    /// User info for presence channels, as JSON
    #[arg(long, value_name = "JSON", env = "TICKERTAPE_USER_INFO")]
    pub user_info: Option<String>,
    /// Profile of the config file to use
    #[arg(long, env = "TICKERTAPE_PROFILE")]
    pub profile: Option<String>,
    /// Config file [default: $XDG_CONFIG_HOME/tickertape/config.toml]
    #[arg(long, value_name = "FILE", env = "TICKERTAPE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Ping after this much silence, unless the server asks for less [default: 120s]
    #[arg(long, value_name = "DURATION", env = "TICKERTAPE_ACTIVITY_TIMEOUT", value_parser = parse_duration)]
    pub activity_timeout: Option<Duration>,
    /// Reconnect when a ping gets no pong within this [default: 30s]
    #[arg(long, value_name = "DURATION", env = "TICKERTAPE_PONG_TIMEOUT", value_parser = parse_duration)]
    pub pong_timeout: Option<Duration>,
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl ConnectionArgs {
    /// Fills what the command line and environment left open from the config-file profile.
    pub fn merged(self) -> anyhow::Result<ConnectionArgs> {
        let (file, path) = config_file::load(self.config.as_deref())?;
        let p: Profile =
            file.profile(non_empty(self.profile.clone()).as_deref(), path.as_deref())?;
        Ok(ConnectionArgs {
            key: non_empty(self.key).or(p.key),
            secret: non_empty(self.secret).or(p.secret),
            app_id: non_empty(self.app_id).or(p.app_id),
            cluster: non_empty(self.cluster).or(p.cluster),
            host: non_empty(self.host).or(p.host),
            port: non_empty(self.port).or(p.port.map(|p| p.to_string())),
            scheme: non_empty(self.scheme).or(p.scheme),
            auth_endpoint: non_empty(self.auth_endpoint).or(p.auth_endpoint),
            user_auth_endpoint: non_empty(self.user_auth_endpoint).or(p.user_auth_endpoint),
            auth_headers: if self.auth_headers.is_empty() {
                p.auth_headers.unwrap_or_default()
            } else {
                self.auth_headers
            },
            encryption_master_key: non_empty(self.encryption_master_key)
                .or(p.encryption_master_key),
            user_id: non_empty(self.user_id).or(p.user_id),
            user_info: non_empty(self.user_info).or(p.user_info),
            signin: self.signin || p.signin.unwrap_or(false),
            ..self
        }
        .with_local_defaults())
    }

    /// With no key, host or cluster anywhere, the target is the embedded server on this
    /// machine, with its default app (`1`, `app-key`, `app-secret`).
    fn with_local_defaults(self) -> ConnectionArgs {
        if self.key.is_some() || self.host.is_some() || self.cluster.is_some() {
            return self;
        }
        let app = crate::server::App::local_default();
        ConnectionArgs {
            key: Some(app.key),
            secret: self.secret.or(Some(app.secret.expose().to_owned())),
            app_id: self.app_id.or(Some(app.id)),
            ..self
        }
    }

    /// A REST client for the same server: `api-CLUSTER.pusher.com` over https for a cluster,
    /// else the WebSocket host and port over http(s).
    pub fn rest_client(&self) -> anyhow::Result<crate::publish::RestClient> {
        let key = self
            .key
            .clone()
            .ok_or_else(|| anyhow!("no app key: pass --key or set PUSHER_APP_KEY"))?;
        let secret = self.secret.clone().ok_or_else(|| {
            anyhow!("the REST API needs the app secret: pass --secret or set PUSHER_APP_SECRET")
        })?;
        let app_id = self.app_id.clone().ok_or_else(|| {
            anyhow!("the REST API needs the app id: pass --app-id or set PUSHER_APP_ID")
        })?;
        let e = self.endpoint()?;
        let api = match (&self.host, &self.cluster) {
            (None, Some(cluster)) if e.tls => Endpoint {
                host: format!(
                    "api-{}.pusher.com",
                    validate_cluster(cluster).map_err(|e| anyhow!("cluster {e}"))?
                ),
                port: 443,
                ..e
            },
            _ => e,
        };
        let base = api.http_base().map_err(|e| anyhow!(e))?;
        Ok(crate::publish::RestClient::new(
            base.to_string(),
            app_id,
            key,
            Secret::new(secret),
        ))
    }

    /// Resolves everything into the engine's configuration (after [`ConnectionArgs::merged`]).
    pub fn client_config(&self) -> anyhow::Result<ClientConfig> {
        let key = self.key.clone().ok_or_else(|| {
            anyhow!(
                "no app key: pass --key, set PUSHER_APP_KEY, or add `key` to a profile in {}",
                config_file::default_path()
                    .map_or("the config file".into(), |p| p.display().to_string())
            )
        })?;
        let key = validate_app_key(&key).map_err(|e| anyhow!(e))?;
        let mut cfg = ClientConfig::new(key, self.endpoint()?);
        cfg.auth.secret = self.secret.clone().map(Secret::new);
        cfg.auth.headers = self
            .auth_headers
            .iter()
            .map(|h| parse_header(h))
            .collect::<Result<_, _>>()?;
        cfg.auth.endpoint = auth_url("auth_endpoint", &self.auth_endpoint, &cfg.auth.headers)?;
        cfg.auth.user_endpoint = auth_url(
            "user_auth_endpoint",
            &self.user_auth_endpoint,
            &cfg.auth.headers,
        )?;
        if let Some(b64) = &self.encryption_master_key {
            cfg.auth.master_key =
                Some(crypto::key_from_base64(b64).context("--encryption-master-key")?);
        }
        let info = match &self.user_info {
            Some(text) => Some(
                serde_json::from_str(text)
                    .with_context(|| format!("--user-info is not JSON: {text}"))?,
            ),
            None => None,
        };
        // Only when asked: a server without user authentication answers a sign-in with 4009.
        let sign_in = self.signin || cfg.auth.user_endpoint.is_some();
        if sign_in && cfg.auth.secret.is_none() && cfg.auth.user_endpoint.is_none() {
            bail!("--signin needs --secret (to sign locally) or --user-auth-endpoint");
        }
        if let Some(id) = &self.user_id {
            cfg.user.id = id.clone();
        }
        cfg.user.info = info;
        cfg.user.sign_in = sign_in;
        if let Some(t) = self.activity_timeout {
            cfg.activity_timeout = t.max(Duration::from_secs(1));
        }
        if let Some(t) = self.pong_timeout {
            cfg.pong_timeout = t.max(Duration::from_millis(100));
        }
        Ok(cfg)
    }

    /// The WebSocket server: `--host`, else `--cluster`, else the embedded server's address.
    pub fn endpoint(&self) -> anyhow::Result<Endpoint> {
        let tls = match self
            .scheme
            .as_deref()
            .map(str::to_ascii_lowercase)
            .as_deref()
        {
            None => None,
            Some("ws" | "http") => Some(false),
            Some("wss" | "https") => Some(true),
            Some(other) => bail!("--scheme {other:?}: use ws, wss, http or https"),
        };
        let port = match &self.port {
            None => None,
            Some(p) => Some(
                p.parse::<u16>()
                    .ok()
                    .filter(|&p| p > 0)
                    .ok_or_else(|| anyhow!("--port {p:?} is not a port number"))?,
            ),
        };
        let default_port = |tls: bool| if tls { 443 } else { 80 };
        Ok(match (&self.host, &self.cluster) {
            (Some(host), _) => {
                let host = validate_host(host).map_err(|e| anyhow!("host {e}"))?;
                let tls = tls.unwrap_or(port == Some(443));
                let port = port.unwrap_or(default_port(tls));
                Endpoint {
                    host,
                    port,
                    tls,
                    tls_port: if port == default_port(false) {
                        443
                    } else {
                        port
                    },
                }
            }
            (None, Some(cluster)) => {
                let tls = tls.unwrap_or(true);
                let cluster = validate_cluster(cluster).map_err(|e| anyhow!("cluster {e}"))?;
                let mut e = Endpoint::cluster(&cluster);
                e.tls = tls;
                e.port = port.unwrap_or(default_port(tls));
                e
            }
            (None, None) => {
                let port = port.unwrap_or(DEFAULT_PORT);
                Endpoint {
                    host: DEFAULT_HOST.into(),
                    port,
                    tls: tls.unwrap_or(false),
                    tls_port: port,
                }
            }
        })
    }
}

/// The value parser of the auth-endpoint flags: the text, if it parses as an [`AuthUrl`].
fn check_auth_url(text: &str) -> Result<String, String> {
    AuthUrl::parse(text).map(|_| text.trim().to_owned())
}

/// An auth endpoint from any source. Credentials in the URL become its Basic auth, so an
/// `Authorization` header of `--auth-header` as well would be ambiguous.
fn auth_url(
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

fn parse_header(text: &str) -> anyhow::Result<(String, String)> {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn args() -> ConnectionArgs {
        ConnectionArgs {
            key: Some("k".into()),
            ..Default::default()
        }
    }

    #[test]
    fn endpoints() {
        let e = args().endpoint().unwrap();
        assert_eq!((e.host.as_str(), e.port, e.tls), ("127.0.0.1", 6001, false));

        let e = ConnectionArgs {
            cluster: Some("eu".into()),
            ..args()
        }
        .endpoint()
        .unwrap();
        assert_eq!(
            (e.host.as_str(), e.port, e.tls),
            ("ws-eu.pusher.com", 443, true)
        );

        // Laravel's .env for Pusher: https, port 443, a cluster and no host.
        let e = ConnectionArgs {
            cluster: Some("mt1".into()),
            scheme: Some("https".into()),
            port: Some("443".into()),
            ..args()
        }
        .endpoint()
        .unwrap();
        assert_eq!(
            e.url("k").split('?').next(),
            Some("wss://ws-mt1.pusher.com:443/app/k")
        );

        // Laravel's .env for soketi or Reverb: a host, a port, http.
        let e = ConnectionArgs {
            host: Some("soketi".into()),
            port: Some("6001".into()),
            scheme: Some("http".into()),
            ..args()
        }
        .endpoint()
        .unwrap();
        assert_eq!(e.url("k").split('?').next(), Some("ws://soketi:6001/app/k"));
        assert_eq!(
            e.with_tls().url("k").split('?').next(),
            Some("wss://soketi:6001/app/k")
        );

        let e = ConnectionArgs {
            host: Some("example.com".into()),
            ..args()
        }
        .endpoint()
        .unwrap();
        assert_eq!((e.port, e.tls, e.with_tls().port), (80, false, 443));

        for bad in [
            ConnectionArgs {
                scheme: Some("ftp".into()),
                ..args()
            },
            ConnectionArgs {
                port: Some("x".into()),
                ..args()
            },
            ConnectionArgs {
                port: Some("0".into()),
                ..args()
            },
            ConnectionArgs {
                host: Some("ws://h".into()),
                ..args()
            },
            ConnectionArgs {
                host: Some("a b".into()),
                ..args()
            },
            ConnectionArgs {
                cluster: Some("eu/../x".into()),
                ..args()
            },
            ConnectionArgs {
                cluster: Some("a.b".into()),
                ..args()
            },
        ] {
            assert!(bad.endpoint().is_err(), "{bad:?}");
            assert!(bad.client_config().is_err(), "{bad:?}");
        }
        // The key is checked wherever it came from (a profile's values skip clap).
        let bad_key = ConnectionArgs {
            key: Some("k\"y".into()),
            ..args()
        };
        assert!(bad_key.client_config().is_err());
        let rest = ConnectionArgs {
            cluster: Some("EU".into()),
            secret: Some("s".into()),
            app_id: Some("1".into()),
            ..args()
        }
        .rest_client()
        .unwrap();
        assert_eq!(rest.base, "https://api-eu.pusher.com:443");
        let rest = ConnectionArgs {
            host: Some("::1".into()),
            port: Some("6001".into()),
            secret: Some("s".into()),
            app_id: Some("1".into()),
            ..args()
        }
        .rest_client()
        .unwrap();
        assert_eq!(rest.base, "http://[::1]:6001");
    }

    #[test]
    fn config_values() {
        let cfg = ConnectionArgs {
            secret: Some("s".into()),
            user_id: Some("u1".into()),
            user_info: Some(r#"{"name":"Ann"}"#.into()),
            auth_headers: vec!["Authorization: Bearer t".into()],
            encryption_master_key: Some("zyrm8pvV2C9fJcBfhyXzvxbJVN/H7QLmbe0xJi1GhPU=".into()),
            ..args()
        }
        .client_config()
        .unwrap();
        assert_eq!(cfg.user.id, "u1");
        // A user id alone does not sign in: only --signin or a user-auth endpoint does.
        assert!(!cfg.user.sign_in);
        let signs_in = |a: ConnectionArgs| a.client_config().map(|c| c.user.sign_in);
        assert!(
            signs_in(ConnectionArgs {
                secret: Some("s".into()),
                signin: true,
                ..args()
            })
            .unwrap()
        );
        assert!(
            signs_in(ConnectionArgs {
                user_auth_endpoint: Some("http://127.0.0.1:1/user-auth".into()),
                ..args()
            })
            .unwrap()
        );
        // Nothing to sign with.
        assert!(
            signs_in(ConnectionArgs {
                signin: true,
                ..args()
            })
            .is_err()
        );
        assert_eq!(
            cfg.auth.headers,
            vec![("Authorization".into(), "Bearer t".into())]
        );
        assert!(cfg.auth.master_key.is_some());
        // The secret never shows in debug output.
        let debug = format!("{cfg:?}");
        assert!(!debug.contains("\"s\"") && debug.contains("***"), "{debug}");
        assert!(!debug.contains("Bearer"), "{debug}");

        let generated = args().client_config().unwrap();
        assert!(generated.user.id.starts_with("tickertape-"));
        assert!(!generated.user.sign_in);

        assert!(
            ConnectionArgs {
                key: None,
                ..args()
            }
            .client_config()
            .is_err()
        );
        assert!(
            ConnectionArgs {
                user_info: Some("{".into()),
                ..args()
            }
            .client_config()
            .is_err()
        );
        assert!(
            ConnectionArgs {
                auth_headers: vec!["nocolon".into()],
                ..args()
            }
            .client_config()
            .is_err()
        );
        assert!(
            ConnectionArgs {
                encryption_master_key: Some("AAEC".into()),
                ..args()
            }
            .client_config()
            .is_err()
        );
    }
}
