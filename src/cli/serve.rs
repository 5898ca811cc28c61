//! Flags of `serve` and `demo`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use super::duration::parse_duration;
use crate::server::{App, ServerConfig};

#[derive(Args, Debug)]
pub struct ServeArgs {
    /// Address to listen on [default: the config file's server.listen, else 127.0.0.1:6001]
    #[arg(long, env = "TICKERTAPE_LISTEN")]
    pub listen: Option<SocketAddr>,
    /// Config file [default: $XDG_CONFIG_HOME/tickertape/config.toml]
    #[arg(long, value_name = "FILE", env = "TICKERTAPE_CONFIG")]
    pub config: Option<std::path::PathBuf>,
    /// An app as ID:KEY:SECRET (repeatable) [default: PUSHER_APP_ID/KEY/SECRET, else the config
    /// file's [[server.apps]], else 1:app-key:app-secret]
    #[arg(long = "app", value_name = "ID:KEY:SECRET", value_parser = AppParser)]
    pub apps: Vec<App>,
    #[arg(long, env = "PUSHER_APP_ID", hide = true)]
    pub app_id: Option<String>,
    #[arg(long, env = "PUSHER_APP_KEY", hide = true)]
    pub key: Option<String>,
    #[arg(long, env = "PUSHER_APP_SECRET", hide = true, hide_env_values = true)]
    pub secret: Option<String>,
    /// Refuse client events (client-*) on every app
    #[arg(long)]
    pub no_client_events: bool,
    /// Seconds of client silence before the server pings (sent to clients)
    #[arg(long, default_value = "120s", value_parser = parse_duration)]
    pub activity_timeout: Duration,
    /// How long a server ping waits for its pong before closing with 4201
    #[arg(long, default_value = "30s", value_parser = parse_duration, hide = true)]
    pub pong_timeout: Duration,
    /// Frames queued per connection before it counts as too slow (4100). Frames are shared
    /// between subscribers, so a queued frame costs its connection one slot.
    #[arg(long, default_value_t = 4096, hide = true)]
    pub send_queue: usize,
    /// Log connections, subscriptions, API calls and client events to stderr
    #[arg(long)]
    pub log: bool,
}

impl ServeArgs {
    /// The apps and the address, by precedence: flags, then env, then the config file, then
    /// the local default app on 127.0.0.1:6001.
    pub fn config(&self) -> anyhow::Result<(ServerConfig, SocketAddr)> {
        let (file, _) = super::config_file::load(self.config.as_deref())?;
        let mut apps = self.apps.clone();
        if apps.is_empty()
            && let (Some(id), Some(key), Some(secret)) = (&self.app_id, &self.key, &self.secret)
            && !id.is_empty()
            && !key.is_empty()
            && !secret.is_empty()
        {
            apps.push(App {
                id: id.clone(),
                key: key.clone(),
                secret: crate::client::Secret::new(secret.clone()),
                client_events: true,
                enabled: true,
            });
        }
        if apps.is_empty() {
            apps = file
                .server
                .apps
                .iter()
                .map(|a| App {
                    id: a.id.clone(),
                    key: a.key.clone(),
                    secret: crate::client::Secret::new(a.secret.clone()),
                    client_events: a.client_events,
                    enabled: a.enabled,
                })
                .collect();
        }
        if apps.is_empty() {
            apps.push(App::local_default());
        }
        if self.no_client_events {
            for app in &mut apps {
                app.client_events = false;
            }
        }
        let mut cfg = ServerConfig::new(apps);
        cfg.activity_timeout = self.activity_timeout.max(Duration::from_secs(1));
        cfg.pong_timeout = self.pong_timeout.max(Duration::from_millis(100));
        cfg.send_queue = self.send_queue.max(1);
        cfg.log.enabled = self.log;
        let listen = self
            .listen
            .or(file.server.listen)
            .unwrap_or(SocketAddr::from(([127, 0, 0, 1], 6001)));
        Ok((cfg, listen))
    }
}

/// Parses `--app ID:KEY:SECRET`. clap's own "invalid value" error prints the value, which
/// holds the secret: this parser's error names the flag and the wrong part only.
#[derive(Clone, Copy, Debug)]
pub struct AppParser;

impl clap::builder::TypedValueParser for AppParser {
    type Value = App;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<App, clap::Error> {
        let problem = match value.to_str() {
            Some(text) => match App::parse(text) {
                Ok(app) => return Ok(app),
                Err(problem) => problem,
            },
            None => "the value is not UTF-8".to_owned(),
        };
        let flag = arg.map_or_else(|| "--app".to_owned(), |a| a.to_string());
        let mut err = clap::Error::raw(
            clap::error::ErrorKind::ValueValidation,
            format!("invalid value for '{flag}' (not shown: it holds the secret): {problem}\n"),
        );
        err = err.with_cmd(cmd);
        Err(err)
    }
}

#[derive(Args, Debug, Clone)]
pub struct DemoArgs {
    /// Address for the embedded server [default: a free port on 127.0.0.1]
    #[arg(long, default_value = "127.0.0.1:0")]
    pub listen: SocketAddr,
    /// Time between stock updates
    #[arg(long, default_value = "300ms", value_parser = parse_duration)]
    pub interval: Duration,
    /// At exit, write the dashboard's own timings to FILE (see `watch --stats`)
    #[arg(long, value_name = "FILE")]
    pub stats: Option<std::path::PathBuf>,
}

impl Default for DemoArgs {
    fn default() -> DemoArgs {
        DemoArgs {
            listen: SocketAddr::from(([127, 0, 0, 1], 0)),
            interval: Duration::from_millis(300),
            stats: None,
        }
    }
}
