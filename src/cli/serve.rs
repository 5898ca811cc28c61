//! Flags of `serve` and `demo`.

use std::net::SocketAddr;
use std::time::Duration;

use clap::Args;

use super::config_file::ServerApp;

use super::defaults;
use super::duration::{parse_duration, parse_timeout};
use server::log::{LogFormat, LogLimits};
use server::{App, Limits, ServerConfig};
use server::{CacheLimits, HubLimits};

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
    /// Never send pusher_internal:subscription_count (sent by default, at most every 100 ms
    /// per channel, every 5 s above 100 subscribers)
    #[arg(long)]
    pub no_subscription_count: bool,
    /// Seconds of client silence before the server pings (sent to clients)
    #[arg(long, default_value = defaults::SERVE_ACTIVITY_TIMEOUT, value_parser = parse_duration)]
    pub activity_timeout: Duration,
    /// How long a server ping waits for its pong before closing with 4201
    #[arg(long, default_value = defaults::SERVE_PONG_TIMEOUT, value_parser = parse_duration, hide = true)]
    pub pong_timeout: Duration,
    /// Frames queued per connection before it counts as too slow (4100). Frames are shared
    /// between subscribers, so a queued frame costs its connection one slot.
    #[arg(long, help_heading = "Limits and timeouts", default_value_t = ServerConfig::DEFAULT_SEND_QUEUE as u32, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub send_queue: u32,
    /// Bytes queued per connection before it counts as too slow (4100). A frame shared
    /// between subscribers counts in full for each of them
    #[arg(long, help_heading = "Limits and timeouts", default_value_t = ServerConfig::DEFAULT_SEND_QUEUE_BYTES as u64, value_parser = clap::value_parser!(u64).range(1024..=1 << 32))]
    pub send_queue_bytes: u64,
    /// Occupied channels one app may hold; past it, subscribing to a new one is refused
    #[arg(long, help_heading = "Limits and timeouts", default_value_t = HubLimits::DEFAULT_MAX_CHANNELS as u32, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub max_channels: u32,
    /// Channels of one app that the sockets of one IP address may be on; past it, another
    /// is refused [default: a tenth of --max-channels]
    #[arg(long, help_heading = "Limits and timeouts", value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub max_channels_per_ip: Option<u32>,
    /// Bytes of cache channels' last events kept per app (each entry also counts its name and
    /// 128 B); past it, new cache channels answer pusher:cache_miss
    #[arg(long, help_heading = "Limits and timeouts", default_value_t = CacheLimits::DEFAULT_BYTES as u64, value_parser = clap::value_parser!(u64).range(0..=1 << 36))]
    pub cache_bytes: u64,
    /// How long a cache channel keeps its last event
    #[arg(long, help_heading = "Limits and timeouts", default_value = defaults::SERVE_CACHE_TTL, value_parser = parse_duration)]
    pub cache_ttl: Duration,
    /// Channels one connection may be subscribed to
    #[arg(long, help_heading = "Limits and timeouts", default_value_t = HubLimits::DEFAULT_MAX_SUBSCRIPTIONS as u32, value_parser = clap::value_parser!(u32).range(1..=100_000))]
    pub max_subscriptions: u32,
    /// Subscribe and unsubscribe requests per second per connection, after a burst of
    /// --max-subscriptions
    #[arg(long, help_heading = "Limits and timeouts", default_value_t = ServerConfig::DEFAULT_SUBSCRIBES_PER_SECOND, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub subscribe_rate: u32,
    /// Subscribe and unsubscribe requests per second from all the connections of one IP
    /// address, after a burst of ten times --max-subscriptions (refused requests count too)
    #[arg(long, help_heading = "Limits and timeouts", default_value_t = HubLimits::DEFAULT_SUBSCRIBES_PER_IP, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub subscribe_rate_per_ip: u32,
    /// Client events per second from all the connections of one IP address (each
    /// connection also has Pusher's 10 a second); past it, 4301
    #[arg(long, help_heading = "Limits and timeouts", default_value_t = HubLimits::DEFAULT_CLIENT_EVENTS_PER_IP, value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub client_events_per_ip: u32,
    /// Presence subscriptions per second of one user id, on all its connections, after a
    /// burst of ten times this
    #[arg(long, help_heading = "Limits and timeouts", default_value_t = HubLimits::DEFAULT_PRESENCE_JOINS_PER_USER, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub presence_rate_per_user: u32,
    /// Presence announcements (member_added, member_removed) per channel per second; past
    /// it they wait, and a member's join and leave that both wait are never announced
    #[arg(long, help_heading = "Limits and timeouts", default_value_t = HubLimits::DEFAULT_PRESENCE_ANNOUNCEMENTS, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub presence_announcements: u32,
    /// How long a closing connection may take to send its queued frames and Close and to
    /// read the client's answer
    #[arg(long, help_heading = "Limits and timeouts", default_value = defaults::SERVE_CLOSE_TIMEOUT, value_parser = parse_duration)]
    pub close_timeout: Duration,
    /// Serve Prometheus metrics on ADDR (IP:PORT, or a port on 127.0.0.1) at GET /metrics:
    /// connections, messages and bytes, REST calls, channels, 4100 closes, webhooks
    #[arg(long, value_name = "ADDR", value_parser = net::metrics::parse_addr)]
    pub metrics: Option<SocketAddr>,
    /// Log connections, subscriptions, client events, and one delivery line per API publish
    /// (channel, event, bytes, recipients, excluded socket, 4100 skips; publishes to no one
    /// are marked NO SUBSCRIBERS, with "did you mean") and webhooks to stderr, like Pusher's Debug Console
    #[arg(long, conflicts_with = "log_json")]
    pub log: bool,
    /// The same log as NDJSON: one object per line, {"time","kind",…}
    #[arg(long)]
    pub log_json: bool,
    /// Write the log's lines to stderr even on a terminal, instead of opening the console
    /// (the Debug Console opens when stdout is a terminal; piped, serve writes lines)
    #[arg(long, conflicts_with = "log_json")]
    pub lines: bool,
    /// The console only watches: no test events from it
    #[arg(long)]
    pub readonly: bool,
    /// Log lines waiting for stderr, in bytes; past it (stderr not read), lines are dropped
    /// and counted
    #[arg(long, help_heading = "Limits and timeouts", default_value_t = LogLimits::DEFAULT_BYTES, value_parser = |s: &str| count(s, 1 << 30))]
    pub log_queue_bytes: usize,
    /// Log lines waiting for stderr; past it, lines are dropped and counted
    #[arg(long, help_heading = "Limits and timeouts", default_value_t = LogLimits::DEFAULT_LINES, value_parser = |s: &str| count(s, 10_000_000))]
    pub log_queue_lines: usize,
    /// Log lines of one kind per second (API MESSAGE lines aside); past it they are counted
    /// and said in one line ("… and N more like this in the last second")
    #[arg(long, help_heading = "Limits and timeouts", default_value_t = LogLimits::DEFAULT_PER_KIND, value_parser = clap::value_parser!(u32).range(1..=1_000_000))]
    pub log_kind_rate: u32,
    #[command(flatten)]
    pub limits: LimitArgs,
    #[command(flatten)]
    pub webhooks: super::serve_webhooks::WebhookArgs,
}

impl ServeArgs {
    /// `--log` or `--log-json`, with the queue's caps; `None` when the log is off.
    pub fn log_settings(&self) -> Option<(LogFormat, LogLimits)> {
        let format = match (self.log || self.lines, self.log_json) {
            (_, true) => LogFormat::Json,
            (true, false) => LogFormat::Text,
            (false, false) => return None,
        };
        let limits = LogLimits {
            bytes: self.log_queue_bytes,
            lines: self.log_queue_lines,
            per_kind: self.log_kind_rate,
        };
        Some((format, limits))
    }
}

/// The server's timeouts and caps (see docs/src/reference/limits.md).
#[derive(Args, Debug)]
#[command(next_help_heading = "Limits and timeouts")]
pub struct LimitArgs {
    /// A request's headers (a WebSocket's upgrade request) must arrive within this; the
    /// connection is closed otherwise
    #[arg(long, value_name = "DURATION", default_value = defaults::SERVE_HEADER_TIMEOUT, value_parser = parse_timeout)]
    pub header_timeout: Duration,
    /// A REST request's body must arrive within this after its headers, else 408
    #[arg(long, value_name = "DURATION", default_value = defaults::SERVE_BODY_TIMEOUT, value_parser = parse_timeout)]
    pub body_timeout: Duration,
    /// A keep-alive connection with no request in flight and nothing moving is closed after
    /// this (at most the header timeout)
    #[arg(long, value_name = "DURATION", default_value = defaults::SERVE_IDLE_TIMEOUT, value_parser = parse_timeout)]
    pub idle_timeout: Duration,
    /// Connections not yet upgraded to WebSocket, in total; more are closed at once
    /// [default: a quarter of the descriptors, 1024 at most]
    #[arg(long, value_name = "N", value_parser = |s: &str| count(s, 1_000_000))]
    pub max_http_connections: Option<usize>,
    /// Connections not yet upgraded to WebSocket from one IP address; more are closed at
    /// once [default: half of --max-http-connections, 128 at most]
    #[arg(long, value_name = "N", value_parser = |s: &str| count(s, 1_000_000))]
    pub max_http_per_ip: Option<usize>,
    /// WebSocket connections in total; more get pusher:error and close code 4004
    /// [default: the descriptors left after the reserve and the HTTP ones, 65536 at most]
    #[arg(long, value_name = "N", value_parser = |s: &str| count(s, 10_000_000))]
    pub max_connections: Option<usize>,
    /// WebSocket connections from one IP address (an IPv6 /64); more get 4004
    /// [default: a quarter of --max-connections]
    #[arg(long, value_name = "N", value_parser = |s: &str| count(s, 10_000_000))]
    pub max_connections_per_ip: Option<usize>,
    /// REST requests handled at once; more get 503
    #[arg(long, value_name = "N", default_value_t = Limits::DEFAULT_MAX_REST_IN_FLIGHT,
          value_parser = |s: &str| count(s, 1_000_000))]
    pub max_rest_in_flight: usize,
}

impl LimitArgs {
    /// The limits for a process that may hold `descriptors` file descriptors, with the
    /// flags given taking precedence.
    pub fn limits(&self, descriptors: u64) -> Limits {
        let sized = Limits::sized(descriptors);
        let max_connections = self.max_connections.unwrap_or(sized.max_connections);
        let max_http_connections = self
            .max_http_connections
            .unwrap_or(sized.max_http_connections);
        Limits {
            header_timeout: self.header_timeout,
            body_timeout: self.body_timeout,
            idle_timeout: self.idle_timeout,
            max_http_connections,
            max_http_per_ip: self
                .max_http_per_ip
                .unwrap_or((max_http_connections / 2).clamp(1, Limits::DEFAULT_MAX_HTTP_PER_IP)),
            max_connections,
            max_connections_per_ip: self
                .max_connections_per_ip
                .unwrap_or((max_connections / 4).max(1)),
            max_rest_in_flight: self.max_rest_in_flight,
        }
    }
}

/// A cap: a whole number from 1 to `max`.
fn count(text: &str, max: usize) -> Result<usize, String> {
    let n: usize = text
        .trim()
        .parse()
        .map_err(|_| format!("{text:?} is not a whole number"))?;
    match n {
        0 => Err("0 would refuse everything; the least is 1".to_owned()),
        n if n > max => Err(format!(
            "{n} is more than this server can use; at most {max}"
        )),
        n => Ok(n),
    }
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
                secret: protocol::Secret::new(secret.clone()),
                client_events: true,
                enabled: true,
                subscription_count: true,
            });
        }
        let from_file = apps.is_empty();
        if from_file {
            apps = file.server.apps.iter().map(ServerApp::app).collect();
        }
        if apps.is_empty() {
            apps.push(App::local_default());
        }
        if self.no_client_events {
            for app in &mut apps {
                app.client_events = false;
            }
        }
        if self.no_subscription_count {
            for app in &mut apps {
                app.subscription_count = false;
            }
        }
        let webhooks = self
            .webhooks
            .config(&apps, from_file.then_some(file.server.apps.as_slice()))?;
        let mut cfg = ServerConfig::new(apps);
        cfg.webhooks = webhooks;
        cfg.activity_timeout = self.activity_timeout.max(Duration::from_secs(1));
        cfg.pong_timeout = self.pong_timeout.max(Duration::from_millis(100));
        cfg.send_queue = self.send_queue as usize;
        cfg.send_queue_bytes = usize::try_from(self.send_queue_bytes).unwrap_or(usize::MAX);
        cfg.hub.max_channels = self.max_channels as usize;
        cfg.hub.max_channels_per_ip = self.max_channels_per_ip.map_or(
            (self.max_channels as usize / HubLimits::CHANNELS_PER_IP_SHARE).max(1),
            |n| n as usize,
        );
        cfg.hub.subscribes_per_ip = self.subscribe_rate_per_ip;
        cfg.hub.client_events_per_ip = self.client_events_per_ip;
        cfg.hub.presence_joins_per_user = self.presence_rate_per_user;
        cfg.hub.presence_announcements = self.presence_announcements;
        cfg.hub.max_subscriptions = self.max_subscriptions as usize;
        cfg.hub.cache.bytes = usize::try_from(self.cache_bytes).unwrap_or(usize::MAX);
        cfg.hub.cache.ttl = self.cache_ttl;
        cfg.subscribes_per_second = self.subscribe_rate;
        cfg.close_timeout = self
            .close_timeout
            .clamp(Duration::from_millis(10), Duration::from_secs(60));
        cfg.limits = self.limits.limits(net::fd::limit());
        let listen = self
            .listen
            .or(file.server.listen)
            .unwrap_or(ServerConfig::DEFAULT_LISTEN);
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
    #[arg(long, default_value = super::defaults::DEMO_LISTEN)]
    pub listen: SocketAddr,
    /// Time between stock updates
    #[arg(long, default_value = super::defaults::DEMO_INTERVAL, value_parser = super::duration::parse_interval)]
    pub interval: Duration,
    /// At exit, write the dashboard's own timings to FILE (see `watch --stats`)
    #[arg(long, value_name = "FILE")]
    pub stats: Option<std::path::PathBuf>,
}

impl Default for DemoArgs {
    /// `tickertape demo` with no flags: the flags' own defaults, written once.
    fn default() -> DemoArgs {
        use clap::{Args, FromArgMatches};
        let matches = DemoArgs::augment_args(clap::Command::new("demo")).get_matches_from(["demo"]);
        DemoArgs::from_arg_matches(&matches).expect("the demo's defaults parse")
    }
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn serve(args: &[&str]) -> Result<ServeArgs, clap::Error> {
        let argv = ["tickertape", "serve"].iter().chain(args);
        match Cli::try_parse_from(argv)?.command {
            Some(Command::Serve(args)) => Ok(*args),
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn the_flags_default_to_the_servers_limits() {
        let args = serve(&[]).unwrap();
        assert_eq!(args.limits.limits(4096), Limits::sized(4096));
        let args = serve(&["--max-connections", "100"]).unwrap();
        let limits = args.limits.limits(4096);
        assert_eq!(
            (limits.max_connections, limits.max_connections_per_ip),
            (100, 25)
        );
    }

    #[test]
    fn log_flags_pick_the_format_and_the_queues_caps() {
        assert_eq!(serve(&[]).unwrap().log_settings(), None);
        assert_eq!(
            serve(&["--log"]).unwrap().log_settings(),
            Some((LogFormat::Text, LogLimits::default()))
        );
        let json = serve(&[
            "--log-json",
            "--log-queue-lines",
            "5",
            "--log-queue-bytes",
            "4096",
        ]);
        assert_eq!(
            json.unwrap().log_settings(),
            Some((
                LogFormat::Json,
                LogLimits {
                    bytes: 4096,
                    lines: 5,
                    ..LogLimits::default()
                }
            ))
        );
        assert!(serve(&["--log", "--log-json"]).is_err());
        assert!(serve(&["--log-queue-lines", "0"]).is_err());
    }

    #[test]
    fn zero_and_absurd_limits_are_refused() {
        for bad in [
            ["--max-connections", "0"],
            ["--max-connections", "99999999"],
            ["--max-http-per-ip", "-1"],
            ["--max-rest-in-flight", "lots"],
            ["--header-timeout", "0"],
            ["--idle-timeout", "0s"],
            ["--body-timeout", "2h"],
        ] {
            assert!(serve(&bad).is_err(), "{bad:?} was accepted");
        }
        let args = serve(&["--max-connections", "2", "--header-timeout", "250ms"]).unwrap();
        assert_eq!(args.limits.max_connections, Some(2));
        assert_eq!(args.limits.header_timeout, Duration::from_millis(250));
    }
}
