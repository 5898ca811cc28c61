//! Flags of `webhooks`, and their resolution into a [`WebhooksPlan`]: the apps whose
//! signatures are checked, where to listen, and the receiver's bounds.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;

use anyhow::bail;
use clap::Args;

use super::config_file::ServerApp;

use super::defaults;
use super::duration::{parse_duration, parse_timeout};
use super::layer::first;
use super::plan::FrontEnd;
use super::plan::connections::UsageError;
use super::serve::AppParser;
use super::size::parse_size;
use server::App;

pub const WEBHOOKS_EXAMPLES: &str = "\
Output:
On a terminal, the dashboard: each webhook event is a line of its log, on its channel \
and named for its kind (channel_occupied, member_added, client_event, …), its fields as \
the data (Enter inspects, / filters, e exports); an INVALID signature is a red line \
before the events, with why and the signature expected. q quits. --lines prints lines \
instead.

Piped (or with --lines), one line per webhook event on stdout: time received, valid or \
INVALID, the app, the event. An INVALID one is followed by why, the signature expected \
under the app's secret and the one received (the secret itself is never shown).

--json prints one object per event instead:
  {\"time_ms\":1327078148132,\"received_at\":\"2026-11-28T10:00:00.123Z\",
   \"app\":\"1\",\"key\":\"app-key\",\"name\":\"channel_occupied\",
   \"channel\":\"stock_ticker\",\"user_id\":null,\"event\":null,\"data\":null,
   \"socket_id\":null,\"valid\":true,\"reason\":null,
   \"expected_signature\":null,\"signature\":\"…\"}
time_ms is the sender's; expected_signature is set when valid is false and the app \
known. A body that is not a webhook's gives one object with \"name\":null and \"error\". \
Refused requests (too big: 413, too slow: 408) are reported on stderr.

Answers:
200 at once to every whole request, valid or not, before anything is printed: a sender \
retries non-2xx answers, and a bad signature would only come again. --reject-invalid \
answers 401 to an unknown key or a bad signature, and 400 to a body that is not a \
webhook.

Apps (the X-Pusher-Key header picks one):
every --app, plus --key/--secret (PUSHER_APP_KEY, PUSHER_APP_SECRET, or the profile); \
when none is given, the config file's [[server.apps]], else serve's \
1:app-key:app-secret.

Examples:
  tickertape webhooks --listen 127.0.0.1:6010 \\
    --key \"$PUSHER_APP_KEY\" --secret \"$PUSHER_APP_SECRET\"
  tickertape webhooks --app 1:app-key:app-secret --app 2:k2:s2 --json \\
    | jq .name
  # Then set https://….ngrok.app/ as the webhook URL in Pusher's dashboard
  ngrok http 6010
  # Wait for one webhook, for scripts
  tickertape webhooks --count 1 --timeout 30s --json";

#[derive(Args, Debug)]
pub struct WebhooksArgs {
    /// Address to listen on for the webhooks' POSTs (any path)
    #[arg(long, value_name = "IP:PORT", default_value = defaults::WEBHOOKS_LISTEN)]
    pub listen: SocketAddr,
    /// An app as ID:KEY:SECRET (repeatable); the X-Pusher-Key header picks the app
    #[arg(long = "app", value_name = "ID:KEY:SECRET", value_parser = AppParser)]
    pub apps: Vec<App>,
    /// App key of the app whose webhooks these are
    #[arg(long, env = "PUSHER_APP_KEY")]
    pub key: Option<String>,
    /// App secret the signatures are checked with. Never printed
    #[arg(long, env = "PUSHER_APP_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// App id, shown with each webhook [default: the key]
    #[arg(long, env = "PUSHER_APP_ID")]
    pub app_id: Option<String>,
    /// Profile of the config file for the key, secret and app id
    #[arg(long, env = "TICKERTAPE_PROFILE")]
    pub profile: Option<String>,
    /// Config file [default: $XDG_CONFIG_HOME/tickertape/config.toml]
    #[arg(long, value_name = "FILE", env = "TICKERTAPE_CONFIG")]
    pub config: Option<PathBuf>,
    /// Print one JSON object per webhook event on stdout
    #[arg(long)]
    pub json: bool,
    /// Print one line per webhook event even on a terminal (the dashboard is the default
    /// there; piped, the lines are)
    #[arg(long, conflicts_with = "json")]
    pub lines: bool,
    /// Draw the dashboard with ASCII only
    #[arg(long)]
    pub ascii: bool,
    /// Stop after N webhook events
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Stop after this long: 20s, 2m, or a number of seconds
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Answer 401 to an unknown key or a bad signature (and 400 to a body that is not a
    /// webhook's) instead of 200
    #[arg(long)]
    pub reject_invalid: bool,
    /// Largest body read; a bigger one gets 413 and is reported. At most half of
    /// --max-queue [default: 1MiB, or half of --max-queue when that is less]
    #[arg(long, value_name = "SIZE", value_parser = parse_size, help_heading = "Limits")]
    pub max_body: Option<usize>,
    /// A request's headers must arrive within this
    #[arg(long, value_name = "DURATION", default_value = defaults::WEBHOOKS_BODY_TIMEOUT, value_parser = parse_timeout, help_heading = "Limits")]
    pub header_timeout: Duration,
    /// A request's body must arrive within this after its headers, else 408
    #[arg(long, value_name = "DURATION", default_value = defaults::WEBHOOKS_BODY_TIMEOUT, value_parser = parse_timeout, help_heading = "Limits")]
    pub body_timeout: Duration,
    /// Connections open at once, and requests read at once; more are answered 503. At most
    /// what the file descriptors allow (`ulimit -n`, less a reserve)
    #[arg(long, value_name = "N", default_value_t = defaults::WEBHOOKS_MAX_CONNECTIONS, value_parser = clap::value_parser!(usize), help_heading = "Limits")]
    pub max_connections: usize,
    /// The receiver's memory for requests: half for the bodies being read (past it, 503),
    /// half for the output waiting for stdout or the dashboard (past it, webhooks are
    /// counted as not shown, on stderr, and still answered)
    #[arg(long, value_name = "SIZE", default_value = defaults::WEBHOOKS_MAX_QUEUE, value_parser = parse_size, help_heading = "Limits")]
    pub max_queue: usize,
}

/// Everything `webhooks` needs, resolved.
#[derive(Debug)]
pub struct WebhooksPlan {
    pub listen: SocketAddr,
    pub apps: Vec<App>,
    /// The dashboard on a terminal, else lines, or NDJSON (`--json`).
    pub front: FrontEnd,
    pub ascii: bool,
    pub count: Option<u64>,
    pub timeout: Option<Duration>,
    pub reject_invalid: bool,
    pub max_body: usize,
    pub header_timeout: Duration,
    pub body_timeout: Duration,
    pub max_connections: usize,
    /// The descriptor limit, raised, that `max_connections` was sized from.
    pub descriptors: net::fd::Descriptors,
    pub max_queue: usize,
    /// The config file's `[keys]`, for the screen.
    pub keys: tui::keys::KeyTable,
}

/// The bodies' half of `max_queue`, in bytes (the listener's budget).
fn body_budget(max_queue: usize) -> usize {
    max_queue / 2
}

impl WebhooksPlan {
    /// The bytes of bodies being read at once: half of `--max-queue`.
    pub fn body_budget(&self) -> usize {
        body_budget(self.max_queue)
    }

    /// The bytes of output made and waiting (for its answer, then for stdout or the
    /// dashboard): the other half of `--max-queue`.
    pub fn output_budget(&self) -> usize {
        self.max_queue - self.body_budget()
    }
}

fn non_empty(v: Option<String>) -> Option<String> {
    v.map(|s| s.trim().to_owned()).filter(|s| !s.is_empty())
}

/// The least `--max-queue`: a body of a few hundred bytes and its output must fit.
const MIN_QUEUE: usize = 1024;

impl WebhooksPlan {
    pub fn from_args(args: WebhooksArgs) -> anyhow::Result<WebhooksPlan> {
        if args.max_connections == 0 {
            bail!("--max-connections 0 would refuse everything; the least is 1");
        }
        // Before the cap is sized from it: the soft descriptor limit goes up to the hard one.
        let descriptors = net::fd::raise();
        let max_connections = args.max_connections.min(net::fd::usable(descriptors.limit));
        let usage = |text: String| anyhow::Error::new(UsageError(text));
        if args.max_queue < MIN_QUEUE {
            return Err(usage(format!(
                "--max-queue {} is too small for a webhook and its output; the least is 1KiB",
                args.max_queue
            )));
        }
        let half = body_budget(args.max_queue);
        let max_body = match args.max_body {
            Some(n) if n > half => {
                return Err(usage(format!(
                    "--max-body {n} is over half of --max-queue ({half} bytes): the bodies \
                     being read have half of it, the output the other half; raise \
                     --max-queue to at least {}",
                    n.saturating_mul(2)
                )));
            }
            Some(0) => return Err(usage("--max-body 0 would refuse every webhook".into())),
            Some(n) => n,
            None => parse_size(defaults::WEBHOOKS_MAX_BODY)
                .map_err(anyhow::Error::msg)?
                .min(half),
        };
        let config = super::config_file::Config::read(args.config.as_deref())?;
        let profile = config.profile(non_empty(args.profile).as_deref())?;
        let key = first(non_empty(args.key), profile.key);
        let secret = first(non_empty(args.secret), profile.secret);
        let id = first(non_empty(args.app_id), profile.app_id);
        let mut apps = args.apps;
        match (key, secret) {
            (Some(key), Some(secret)) => apps.push(App {
                id: id.unwrap_or_else(|| key.clone()),
                key,
                secret: protocol::Secret::new(secret),
                client_events: true,
                enabled: true,
                subscription_count: true,
            }),
            (Some(_), None) => bail!(
                "the app key needs its secret to check signatures: pass --secret or set \
                 PUSHER_APP_SECRET"
            ),
            (None, Some(_)) => {
                bail!("the secret needs its app key: pass --key or set PUSHER_APP_KEY")
            }
            (None, None) => {}
        }
        if apps.is_empty() {
            apps = config.file.server.apps.iter().map(ServerApp::app).collect();
        }
        if apps.is_empty() {
            apps.push(App::local_default());
        }
        // One key, one secret: the key header picks the app. The same app given twice (a
        // flag and the environment) is kept once; a key with two secrets is refused.
        let mut kept: Vec<App> = Vec::with_capacity(apps.len());
        for app in apps {
            match kept.iter().find(|k| k.key == app.key) {
                Some(k) if k.secret.expose() == app.secret.expose() => {}
                Some(k) => bail!(
                    "app {} and app {} both have key {}: the X-Pusher-Key header could not \
                     tell which secret signs its webhooks",
                    k.id,
                    app.id,
                    protocol::safe_text::terminal_safe(&app.key)
                ),
                None => kept.push(app),
            }
        }
        let apps = kept;
        Ok(WebhooksPlan {
            listen: args.listen,
            apps,
            front: match args.json {
                true => FrontEnd::Json,
                false if args.lines => FrontEnd::Lines,
                false => FrontEnd::choose(false, false, FrontEnd::Lines),
            },
            ascii: args.ascii,
            count: args.count,
            timeout: args.timeout,
            reject_invalid: args.reject_invalid,
            max_body,
            header_timeout: args.header_timeout,
            body_timeout: args.body_timeout,
            max_connections,
            descriptors,
            max_queue: args.max_queue,
            keys: config.file.keys.0,
        })
    }
}
