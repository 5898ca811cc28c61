//! Connection flags, and their resolution into a [`ClientConfig`].
//!
//! Precedence: command line, then environment (Laravel's and Pusher's names), then the
//! config-file profile, then defaults. clap merges the first two; the profile fills what is
//! still open, by the plans' one layering rule ([`super::layer`]). Empty
//! environment values count as unset, as in a Laravel `.env` with `PUSHER_HOST=`.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::{Context, anyhow, bail};
use clap::Args;

use super::config_file::{self, Config, Profile};
use super::duration::parse_duration;
use super::env_file::EnvFileError;
pub use super::env_layer::{Broadcaster, EnvLayer, Field, Place, Var};
use super::layer::{self, first};
use super::plan::connections::UsageError;
use super::target::{Checked, auth_url, check_auth_url, parse_ca_file, parse_header};
use client::{ClientConfig, Endpoint, validate_app_key, validate_cluster, validate_host};
use net::tls::ExtraRoots;
use protocol::Secret;
use protocol::crypto;

/// Where the embedded server listens by default, and so where `watch` looks first.
pub const DEFAULT_HOST: &str = "127.0.0.1";
pub const DEFAULT_PORT: u16 = 6001;

#[derive(Args, Debug, Clone, Default)]
#[command(next_help_heading = "Connection")]
pub struct ConnectionArgs {
    /// App key (public; it is part of the WebSocket URL) [env: PUSHER_APP_KEY or
    /// REVERB_APP_KEY]
    #[arg(long, value_parser = Checked(validate_app_key))]
    pub key: Option<String>,
    /// App secret: signs private and presence subscriptions locally. Never printed
    /// [env: PUSHER_APP_SECRET or REVERB_APP_SECRET]
    #[arg(long)]
    pub secret: Option<String>,
    /// App id (for the REST API) [env: PUSHER_APP_ID or REVERB_APP_ID]
    #[arg(long)]
    pub app_id: Option<String>,
    /// Pusher cluster, e.g. eu or mt1: connects to ws-CLUSTER.pusher.com over TLS
    /// [env: PUSHER_APP_CLUSTER]
    #[arg(long, value_parser = Checked(validate_cluster))]
    pub cluster: Option<String>,
    /// Server host name or IP [default: 127.0.0.1, the embedded server] [env: PUSHER_HOST or
    /// REVERB_HOST]
    #[arg(long, value_parser = Checked(validate_host))]
    pub host: Option<String>,
    /// Server port [default: 6001 for the default host, else 443 with TLS and 80 without;
    /// 443 with REVERB_HOST, as Laravel's config does] [env: PUSHER_PORT or REVERB_PORT]
    #[arg(long)]
    pub port: Option<String>,
    /// ws or wss (http and https, as Laravel writes them, mean the same) [default: https
    /// with REVERB_HOST, as Laravel's config does] [env: PUSHER_SCHEME or REVERB_SCHEME]
    #[arg(long)]
    pub scheme: Option<String>,
    /// Read the settings of a .env file (phpdotenv's syntax, as Laravel writes it): PUSHER_*
    /// or REVERB_*, as BROADCAST_CONNECTION chooses. Precedence: flags, then the
    /// environment, then this file, then the profile, then defaults
    #[arg(long, value_name = "PATH", env = "TICKERTAPE_ENV_FILE")]
    pub env_file: Option<PathBuf>,
    /// Auth endpoint for private/presence/encrypted channels (pusher-js's form POST).
    /// Credentials in it (https://user:pw@host/…) are sent as Basic auth, never shown
    #[arg(long, env = "PUSHER_AUTH_ENDPOINT", value_parser = Checked(check_auth_url))]
    pub auth_endpoint: Option<String>,
    /// User-authentication endpoint for signing in (pusher-js's /pusher/user-auth)
    #[arg(long, env = "PUSHER_USER_AUTH_ENDPOINT", value_parser = Checked(check_auth_url))]
    pub user_auth_endpoint: Option<String>,
    /// Also trust the CA certificates of this PEM file (a self-hosted server's private CA),
    /// besides the bundled and the system roots
    #[arg(long, value_name = "FILE", env = "TICKERTAPE_CA_FILE", value_parser = parse_ca_file)]
    pub ca_file: Option<PathBuf>,
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
    /// Profile of the config file to use. `watch` takes several: one connection each
    #[arg(long, env = "TICKERTAPE_PROFILE")]
    pub profile: Vec<String>,
    /// Config file [default: $XDG_CONFIG_HOME/tickertape/config.toml]
    #[arg(long, value_name = "FILE", env = "TICKERTAPE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Ping after this much silence, unless the server asks for less [default: 120s]
    #[arg(long, value_name = "DURATION", env = "TICKERTAPE_ACTIVITY_TIMEOUT", value_parser = parse_duration)]
    pub activity_timeout: Option<Duration>,
    /// Reconnect when a ping gets no pong within this [default: 30s]
    #[arg(long, value_name = "DURATION", env = "TICKERTAPE_PONG_TIMEOUT", value_parser = parse_duration)]
    pub pong_timeout: Option<Duration>,
    /// Give each connection attempt, handshake included, this long in all [default: 10s]
    #[arg(long, value_name = "DURATION", env = "TICKERTAPE_CONNECT_TIMEOUT", value_parser = parse_duration)]
    pub connect_timeout: Option<Duration>,
    /// Where each setting came from, once layered.
    #[arg(skip)]
    pub origins: Origins,
    /// The environment's layer it was layered with (for `doctor`'s checks).
    #[arg(skip)]
    pub env: EnvLayer,
}

/// Where a setting came from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Origin {
    /// A flag (`--key`).
    Flag(&'static str),
    /// A variable of the environment or of `--env-file`: "REVERB_PORT (.env line 9)".
    Env(String),
    /// A profile of the config file.
    Profile(String),
    /// A default, and whose.
    Default(&'static str),
}

impl std::fmt::Display for Origin {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Origin::Flag(flag) => f.write_str(flag),
            Origin::Env(var) => f.write_str(var),
            Origin::Profile(name) => write!(f, "profile {name:?}"),
            Origin::Default(whose) => write!(f, "default ({whose})"),
        }
    }
}

/// Where each setting the environment may give came from.
#[derive(Debug, Clone, Default)]
pub struct Origins {
    pub key: Option<Origin>,
    pub secret: Option<Origin>,
    pub app_id: Option<Origin>,
    pub cluster: Option<Origin>,
    pub host: Option<Origin>,
    pub port: Option<Origin>,
    pub scheme: Option<Origin>,
}

impl Origins {
    pub fn get(&self, field: Field) -> Option<&Origin> {
        match field {
            Field::Key => self.key.as_ref(),
            Field::Secret => self.secret.as_ref(),
            Field::AppId => self.app_id.as_ref(),
            Field::Cluster => self.cluster.as_ref(),
            Field::Host => self.host.as_ref(),
            Field::Port => self.port.as_ref(),
            Field::Scheme => self.scheme.as_ref(),
        }
    }

    fn set(&mut self, field: Field, origin: Option<Origin>) {
        let slot = match field {
            Field::Key => &mut self.key,
            Field::Secret => &mut self.secret,
            Field::AppId => &mut self.app_id,
            Field::Cluster => &mut self.cluster,
            Field::Host => &mut self.host,
            Field::Port => &mut self.port,
            Field::Scheme => &mut self.scheme,
        };
        *slot = origin;
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

impl ConnectionArgs {
    /// Fills what the command line and environment left open from the config-file profile.
    pub fn merged(self) -> anyhow::Result<ConnectionArgs> {
        if self.profile.len() > 1 {
            bail!("--profile is given more than once: only `watch` opens several connections");
        }
        let name = self.profile.first().cloned();
        self.merged_with(name.as_deref())
    }

    /// [`ConnectionArgs::merged`] with the profile `name` (else the file's default profile).
    pub fn merged_with(self, name: Option<&str>) -> anyhow::Result<ConnectionArgs> {
        let config = Config::read(self.config.as_deref())?;
        self.layered(&config, name)
    }

    /// [`ConnectionArgs::merged_with`] from a config file already read (a plan reads it once,
    /// for all its connections). The environment (and `--env-file`) is read here.
    pub fn layered(self, config: &Config, name: Option<&str>) -> anyhow::Result<ConnectionArgs> {
        let env = read_env(self.env_file.as_deref())?;
        self.layered_with(config, name, env)
    }

    /// [`ConnectionArgs::layered`] with the environment's layer already read.
    pub fn layered_with(
        self,
        config: &Config,
        name: Option<&str>,
        env: EnvLayer,
    ) -> anyhow::Result<ConnectionArgs> {
        let name = non_empty(name.map(str::to_owned));
        let p: Profile = config.profile(name.as_deref())?;
        let profile_name = name.unwrap_or_else(|| {
            config
                .file
                .default_profile
                .clone()
                .unwrap_or_else(|| "default".into())
        });
        let mut origins = Origins::default();
        let mut pick = |field: Field,
                        flag: Option<String>,
                        profile: Option<String>|
         -> anyhow::Result<Option<String>> {
            if let Some(v) = non_empty(flag) {
                origins.set(field, Some(Origin::Flag(field.flag())));
                return Ok(Some(v));
            }
            if let Some(var) = env.field(field) {
                check_env(field, var, &env)?;
                origins.set(field, Some(Origin::Env(env.describe(var))));
                return Ok(Some(var.value.clone()));
            }
            if let Some(v) = non_empty(profile) {
                origins.set(field, Some(Origin::Profile(profile_name.clone())));
                return Ok(Some(v));
            }
            Ok(None)
        };
        let key = pick(Field::Key, self.key, p.key)?;
        let secret = pick(Field::Secret, self.secret, p.secret)?;
        let app_id = pick(Field::AppId, self.app_id, p.app_id)?;
        let cluster = pick(Field::Cluster, self.cluster, p.cluster)?;
        let host = pick(Field::Host, self.host, p.host)?;
        let mut port = pick(Field::Port, self.port, p.port.map(|p| p.to_string()))?;
        let mut scheme = pick(Field::Scheme, self.scheme, p.scheme)?;
        // Laravel's config/broadcasting.php: `env('REVERB_SCHEME', 'https')` and
        // `env('REVERB_PORT', 443)`, for a Reverb host from the environment.
        if env.broadcaster == Broadcaster::Reverb && matches!(origins.host, Some(Origin::Env(_))) {
            const WHOSE: &str = "Laravel's config/broadcasting.php, for REVERB_HOST";
            if scheme.is_none() {
                scheme = Some("https".into());
                origins.scheme = Some(Origin::Default(WHOSE));
            }
            if port.is_none() {
                port = Some("443".into());
                origins.port = Some(Origin::Default(WHOSE));
            }
        }
        let from_env = |name: &str| env.var(name).map(|v| v.value.clone());
        Ok(ConnectionArgs {
            key,
            secret,
            app_id,
            cluster,
            host,
            port,
            scheme,
            auth_endpoint: first(
                first(
                    non_empty(self.auth_endpoint),
                    from_env("PUSHER_AUTH_ENDPOINT"),
                ),
                p.auth_endpoint,
            ),
            user_auth_endpoint: first(
                first(
                    non_empty(self.user_auth_endpoint),
                    from_env("PUSHER_USER_AUTH_ENDPOINT"),
                ),
                p.user_auth_endpoint,
            ),
            auth_headers: layer::list(self.auth_headers, p.auth_headers),
            encryption_master_key: first(
                first(
                    non_empty(self.encryption_master_key),
                    from_env("PUSHER_ENCRYPTION_MASTER_KEY_BASE64"),
                ),
                p.encryption_master_key,
            ),
            user_id: first(non_empty(self.user_id), p.user_id),
            user_info: first(non_empty(self.user_info), p.user_info),
            signin: layer::switch(self.signin, p.signin),
            ca_file: first(self.ca_file, p.ca_file),
            origins,
            env,
            ..self
        }
        .with_local_defaults())
    }

    /// With no key, host or cluster anywhere, the target is the embedded server on this
    /// machine, with its default app (`1`, `app-key`, `app-secret`).
    fn with_local_defaults(mut self) -> ConnectionArgs {
        if self.key.is_some() || self.host.is_some() || self.cluster.is_some() {
            return self;
        }
        let app = server::App::local_default();
        const WHOSE: &str = "the embedded server's app";
        self.origins.key = Some(Origin::Default(WHOSE));
        if self.secret.is_none() {
            self.origins.secret = Some(Origin::Default(WHOSE));
        }
        if self.app_id.is_none() {
            self.origins.app_id = Some(Origin::Default(WHOSE));
        }
        ConnectionArgs {
            key: Some(app.key),
            secret: self.secret.or(Some(app.secret.expose().to_owned())),
            app_id: self.app_id.or(Some(app.id)),
            ..self
        }
    }

    /// A REST client for the same server: `api-CLUSTER.pusher.com` over https for a cluster,
    /// else the WebSocket host and port over http(s).
    pub fn rest_client(&self) -> anyhow::Result<client::publish::RestClient> {
        let key = self.key.clone().ok_or_else(|| {
            anyhow!("no app key: pass --key or set PUSHER_APP_KEY (or REVERB_APP_KEY)")
        })?;
        let secret = self.secret.clone().ok_or_else(|| {
            anyhow!("the REST API needs the app secret: pass --secret or set PUSHER_APP_SECRET (or REVERB_APP_SECRET)")
        })?;
        let app_id = self.app_id.clone().ok_or_else(|| {
            anyhow!("the REST API needs the app id: pass --app-id or set PUSHER_APP_ID (or REVERB_APP_ID)")
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
        let mut rest =
            client::publish::RestClient::new(base.to_string(), app_id, key, Secret::new(secret));
        if let Some(path) = &self.ca_file {
            let roots = ExtraRoots::from_pem_file(path).map_err(|e| anyhow!("--ca-file: {e}"))?;
            rest = rest.with_http(net::http::HttpClient::with_roots(
                Duration::from_secs(10),
                &roots,
            ));
        }
        Ok(rest)
    }

    /// Resolves everything into the engine's configuration (after [`ConnectionArgs::merged`]).
    pub fn client_config(&self) -> anyhow::Result<ClientConfig> {
        let key = self.key.clone().ok_or_else(|| {
            anyhow!(
                "no app key: pass --key, set PUSHER_APP_KEY (or REVERB_APP_KEY), or add `key` to a profile in {}",
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
        if let Some(path) = &self.ca_file {
            cfg.tls_roots =
                ExtraRoots::from_pem_file(path).map_err(|e| anyhow!("--ca-file: {e}"))?;
        }
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
        if let Some(t) = self.connect_timeout {
            cfg.connect_timeout = t.max(Duration::from_millis(100));
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

/// The environment's layer, `--env-file` checked whole: a line it cannot read is an error
/// that names the line, never its text.
pub fn read_env(file: Option<&std::path::Path>) -> anyhow::Result<EnvLayer> {
    EnvLayer::read(file).map_err(|e| match e {
        EnvFileError::Line { .. } => anyhow!(
            "--env-file {}: {e}",
            protocol::safe_text::terminal_safe(
                &file.map(|p| p.display().to_string()).unwrap_or_default()
            )
        ),
        EnvFileError::File(_) => anyhow!("--env-file: {e}"),
    })
}

/// A value from the environment goes through the same checks as its flag. The message names
/// the variable and where it was set, never the value: a `.env` holds secrets, and one pasted
/// on the wrong line (or a `${VAR}` naming the secret) must not show. A bad value in the
/// process's environment is a usage error (exit 2), as clap's for a flag.
fn check_env(field: Field, var: &Var, env: &EnvLayer) -> anyhow::Result<()> {
    let value = var.value.as_str();
    let size = format!("the value ({} characters)", value.chars().count());
    let verdict = match field {
        Field::Key => validate_app_key(value).map(drop),
        Field::Host => validate_host(value).map(drop).map_err(|_| {
            let hint = if value.contains("://") || value.contains('/') {
                ": give the host name only, and the scheme and port in their own variables"
            } else {
                ""
            };
            format!("{size} is not a host name or an IP address{hint}")
        }),
        Field::Cluster => validate_cluster(value).map(drop).map_err(|_| {
            format!("{size} is not a cluster name: give one DNS label, such as eu, mt1 or us2")
        }),
        Field::Port => value
            .parse::<u16>()
            .ok()
            .filter(|&p| p > 0)
            .map(drop)
            .ok_or_else(|| format!("{size} is not a port number (1 to 65535)")),
        Field::Scheme => match value.to_ascii_lowercase().as_str() {
            "ws" | "wss" | "http" | "https" => Ok(()),
            _ => Err(format!(
                "{size} is not a scheme: use ws, wss, http or https"
            )),
        },
        Field::Secret | Field::AppId => Ok(()),
    };
    verdict.map_err(|why| {
        let text = format!("{}: {why}", env.describe(var));
        match var.place {
            Place::Env => anyhow::Error::new(UsageError(text)),
            Place::File(_) => anyhow!(text),
        }
    })
}

#[cfg(test)]
#[path = "connection_tests.rs"]
mod tests;
