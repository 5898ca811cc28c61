//! The command line: subcommands, their flags, and configuration resolution.

pub mod config_file;
pub mod connection;
pub mod defaults;
pub mod docs;
pub mod doctor;
pub mod duration;
pub mod env_file;
pub mod env_layer;
pub mod expect;
pub mod layer;
pub mod plan;
pub mod probe;
pub mod publish;
pub mod serve;
pub mod serve_webhooks;
pub mod size;
pub mod tap;
pub mod target;
pub mod trace;
pub mod webhooks;

use std::path::PathBuf;
use std::time::Duration;

use clap::{Parser, Subcommand};

pub use connection::ConnectionArgs;
use duration::parse_duration;

const EXAMPLES: &str = "\
Examples:
  # The seed end to end: server, stock publisher and dashboard on this machine
  tickertape

  # The dashboard on a channel, with the seed's binding
  tickertape watch stock_ticker \\
    --bind 'update_event=ticker(key=name,value=price)'

  # Watch a channel on the local embedded server, as NDJSON
  tickertape watch stock_ticker --json --key app-key

  # One dashboard, two apps
  tickertape watch stock_ticker --profile prod-eu --profile prod-us

  # Pusher itself, with the credentials of a Laravel .env
  set -a; source .env; set +a
  tickertape watch private-orders presence-lobby --json | jq .data

  # A Laravel app's REVERB_* (or PUSHER_*) settings, from its .env
  tickertape watch private-orders --env-file .env
  # Which hop fails, and why
  tickertape doctor --env-file .env

  # Stop after 10 events or 30 seconds, whichever comes first
  tickertape watch stock_ticker --json --count 10 --timeout 30s

  # Shell completions and the man page
  tickertape completions bash \\
    > ~/.local/share/bash-completion/completions/tickertape
  tickertape man > ~/.local/share/man/man1/tickertape.1";

#[derive(Parser, Debug)]
#[command(
    name = "tickertape",
    version,
    about = "Watch, debug and serve Pusher Channels (protocol v7) from the terminal",
    after_help = EXAMPLES
)]
pub struct Cli {
    /// Write diagnostic logs to this file (never to the terminal)
    #[arg(long, global = true, value_name = "FILE", env = "TICKERTAPE_LOG_FILE")]
    pub log_file: Option<PathBuf>,
    /// Log level for --log-file: error, warn, info, debug or trace
    #[arg(
        long,
        global = true,
        default_value = defaults::LOG_LEVEL,
        env = "TICKERTAPE_LOG_LEVEL"
    )]
    pub log_level: tracing::Level,
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Watch channels: the dashboard on a terminal, NDJSON with --json
    #[command(after_help = WATCH_EXAMPLES)]
    Watch(Box<WatchArgs>),
    /// Run a Pusher-compatible server (WebSocket + signed REST API) on this machine
    #[command(after_help = SERVE_EXAMPLES)]
    Serve(Box<serve::ServeArgs>),
    /// Trigger an event through the signed REST API
    #[command(after_help = TRIGGER_EXAMPLES)]
    Trigger(Box<publish::TriggerArgs>),
    /// List occupied channels, or show one channel (and its presence members)
    Channels(Box<publish::ChannelsArgs>),
    /// Publish the seed's stock ticker: update_event {name, price} on stock_ticker
    #[command(after_help = STOCKS_EXAMPLES)]
    Stocks(Box<publish::StocksArgs>),
    /// The seed end to end: embedded server, stock publisher and watcher (the default)
    Demo(serve::DemoArgs),
    /// Feed a recording (watch --record) into the dashboard or --json
    Replay(Box<ReplayArgs>),
    /// Watch for a while and judge the expectations, for cron, Nagios/Icinga and CI
    #[command(after_help = expect::CHECK_HELP)]
    Check(Box<expect::CheckArgs>),
    /// A synthetic canary: publish and receive through one node or every node of a cluster
    #[command(after_help = probe::PROBE_HELP)]
    Probe(Box<probe::ProbeArgs>),
    /// Test every hop to a working private channel, and explain the first that fails
    #[command(after_help = doctor::DOCTOR_HELP)]
    Doctor(Box<doctor::DoctorArgs>),
    /// Receive webhooks (Pusher, sockudo, soketi, serve) and check their signatures
    #[command(after_help = webhooks::WEBHOOKS_EXAMPLES)]
    Webhooks(Box<webhooks::WebhooksArgs>),
    /// Watch a cluster's backplane (Redis) without being counted as a node
    #[command(after_help = tap::TAP_HELP)]
    Tap(Box<tap::TapArgs>),
    /// Follow one event hop by hop across the nodes of a cluster
    #[command(after_help = trace::TRACE_HELP)]
    Trace(Box<trace::TraceArgs>),
    /// Print a shell completion script
    Completions {
        /// bash, zsh, fish, elvish or powershell
        shell: clap_complete::Shell,
    },
    /// Print the man page (roff), or write one page per command into a directory
    #[command(after_help = MAN_EXAMPLES)]
    Man {
        /// Write tickertape.1 and tickertape-COMMAND.1 for every command into DIR
        #[arg(long, value_name = "DIR")]
        dir: Option<PathBuf>,
    },
}

const MAN_EXAMPLES: &str = "\
Examples:
  tickertape man > ~/.local/share/man/man1/tickertape.1
  tickertape man --dir ~/.local/share/man/man1
  man tickertape-watch";

const SERVE_EXAMPLES: &str = "\
Examples:
  # The Debug Console on a terminal; 127.0.0.1:6001, app 1:app-key:app-secret
  tickertape serve
  # Log lines on stderr
  tickertape serve --log
  # Log lines, not the console
  tickertape serve --lines 2> serve.log
  # The console, no test events
  tickertape serve --readonly
  tickertape serve --app 42:my-key:my-secret --listen 127.0.0.1:6002
  # The seed's Stock Market page
  open http://127.0.0.1:6001/";

const TRIGGER_EXAMPLES: &str = "\
Report (stderr, unless --quiet):
  tickertape: delivered to 3 subscribers on stock_ticker
  tickertape: stock-ticker has no subscribers: the server counted 0 subscribers
    just after publishing (one that took the event and left at once is not
    counted)
  tickertape:   did you mean stock_ticker? (-, _ and . are different
    characters in a name)
The counts come from the server's subscription_count (on Pusher, turn on \
subscription counting in the app's settings); the suggestions from its occupied \
channels.

Exit status:
  0  sent
  1  refused by the server, or the setup is invalid
  2  usage error
  4  with --require-subscribers: a channel had no subscribers, or the server
     did not say

Examples:
  tickertape trigger stock_ticker update_event '{\"name\":\"ACME\",\"price\":42}'
  echo '{\"text\":\"hi\"}' | tickertape trigger chat-1,chat-2 message -
  # Lines of {\"channel\",\"name\",\"data\"}
  tickertape trigger --batch events.ndjson
  tickertape trigger stock_ticker ping '{}' --require-subscribers --quiet \\
    || echo 'nobody listens'
  tickertape trigger private-encrypted-orders created '{\"id\":7}' \\
    --encryption-master-key \"$KEY_B64\"
  # Pusher itself
  PUSHER_APP_CLUSTER=eu tickertape trigger my-channel my-event '{}'
";

const STOCKS_EXAMPLES: &str = "\
Report (stderr, unless --quiet): delivered to N subscribers on CHANNEL at every \
tick, and a warning, with suggestions, when the channel falls silent (once until \
someone listens again).

Examples:
  tickertape stocks --interval 1s --ts
  tickertape stocks --channel private-encrypted-ticks \\
    --encryption-master-key \"$KEY_B64\"";

const WATCH_EXAMPLES: &str = "\
Output:
  --json prints one object per event on stdout:
    {\"time\":\"2026-11-28T10:00:00.123Z\",\"channel\":\"stock_ticker\",
     \"event\":\"update_event\",\"data\":{\"name\":\"ACME\",\"price\":42}}
`user_id` appears on presence client events, `error` on payloads that could not \
be decrypted. With --bind, an event no binding matches carries a \"hint\" (\"did \
you mean update_event?\"). Connection states go to stderr (as JSON with \
--json-status).

Exit status (the dashboard's too, when it quits):
  0  normal end: --count reached, --timeout passed, Ctrl-C, q, or stdout closed
  1  the server refused the connection (e.g. 4001, unknown app key), the
     connection never came up (however the run ended: --timeout, Ctrl-C, q),
     or the setup is invalid; the dashboard keeps a refusal on screen, and
     exits 1 if it quits with the connection still refused or never
     established, saying why
  2  usage error
  3  a subscription failed to authorize, with --fail-fast

Examples:
  tickertape watch stock_ticker --json --key app-key
  tickertape watch private-orders --json --secret \"$PUSHER_APP_SECRET\" \\
    | jq -c .data
  tickertape watch presence-lobby --json \\
    --auth-endpoint https://app.test/pusher/auth \\
    --auth-header 'Cookie: session=…' --json-status 2>states.ndjson";

#[derive(clap::Args, Debug)]
pub struct WatchArgs {
    /// Channels to subscribe to
    #[arg(required_unless_present_any = ["all", "view"], value_name = "CHANNEL")]
    pub channels: Vec<String>,
    /// Start from a saved view of the config file ([views.NAME]): its channels, bindings
    /// and expectations are added to the flags', its filter and sort set
    #[arg(long, value_name = "NAME")]
    pub view: Option<String>,
    /// Follow every occupied channel, found through the REST API (needs the app id and
    /// secret); channels as they appear are subscribed, vacated ones are reported
    #[arg(long)]
    pub all: bool,
    /// With --all: only channels whose names start with this
    #[arg(long, requires = "all")]
    pub prefix: Option<String>,
    /// With --all: how often to ask which channels are occupied. Each look is one REST
    /// request (the default makes 30 a minute)
    #[arg(long, default_value = defaults::DISCOVER_INTERVAL, value_parser = duration::parse_interval, requires = "all")]
    pub discover_interval: Duration,
    /// With --all: skip presence channels. Else they are joined as a member, under --user-id
    /// or, by default, as tickertape-observer-<random>, which says what this member is
    #[arg(long, requires = "all")]
    pub no_presence: bool,
    /// Print events as NDJSON on stdout
    #[arg(long)]
    pub json: bool,
    /// Print connection states on stderr as JSON lines
    #[arg(long)]
    pub json_status: bool,
    /// Print only the events for which this jq expression is true, evaluated on each event
    /// as --json writes it (time, channel, event, data, …), e.g.
    /// '.data.price > 50 and .channel == "stock_ticker"'. An event the expression fails on is
    /// skipped and counted. What may loop is refused (see the manual: docs/src/guide/watching.md)
    #[arg(long = "where", value_name = "EXPR", value_parser = observe::jq::Jq::parse)]
    pub where_: Option<observe::jq::Jq>,
    /// Stop after N application events
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Stop after this long: 20s, 2m, or a number of seconds
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// Record every event and state change to FILE as NDJSON (replay it with `tickertape replay`)
    #[arg(long, value_name = "FILE")]
    pub record: Option<PathBuf>,
    /// Exit (status 3) as soon as a subscription fails to authorize
    #[arg(long)]
    pub fail_fast: bool,
    /// Print no events: at the end, one JSON line on stdout with the count per channel and
    /// event, the rate, and what was dropped
    #[arg(long, conflicts_with = "json")]
    pub summary: bool,
    /// Bind an event to a view (repeatable): [CHANNEL/]EVENT=VIEW, where VIEW is
    /// ticker(key=PATH,value=PATH), log, count or ignore; EVENT or CHANNEL may be *
    #[arg(long = "bind", value_name = "RULE", value_parser = observe::binding::Binding::parse, help_heading = "Dashboard")]
    pub bindings: Vec<observe::binding::Binding>,
    /// Bindings from a TOML file of [[bind]] tables (see assets/stock_ticker.toml).
    /// `--bindings FILE` is the same flag; rules given inline are `--bind RULE`
    #[arg(
        long,
        visible_alias = "bindings",
        value_name = "FILE",
        help_heading = "Dashboard"
    )]
    pub bindings_file: Option<PathBuf>,
    /// Most redraws per second
    #[arg(long, default_value_t = defaults::FPS, value_parser = clap::value_parser!(u32).range(1..=240), help_heading = "Dashboard")]
    pub fps: u32,
    /// Log lines kept
    #[arg(long, default_value_t = defaults::LOG_CAPACITY, help_heading = "Dashboard")]
    pub log_capacity: usize,
    /// Bytes the log's lines may hold in all (names, data and raw frames): past this the
    /// oldest lines go, and the log's title counts them
    #[arg(long, value_name = "BYTES", default_value_t = defaults::LOG_BYTES, help_heading = "Dashboard")]
    pub log_bytes: usize,
    /// Values kept per ticker row
    #[arg(long, default_value_t = defaults::HISTORY, help_heading = "Dashboard")]
    pub history: usize,
    /// Ticker rows kept; the least recently updated is evicted
    #[arg(long, default_value_t = defaults::MAX_ROWS, help_heading = "Dashboard")]
    pub max_rows: usize,
    /// Bytes of items waiting between the connection and the output, all stages (and all
    /// connections, with several --profile or --node) together (events count their frame). Past it, reading pauses for 250 ms, then events are
    /// dropped and counted until half of it is free
    #[arg(long, value_name = "SIZE", default_value = defaults::MAX_BUFFER, value_parser = crate::cli::size::parse_size, help_heading = "Limits")]
    pub max_buffer: usize,
    /// Largest message accepted from the server. A bigger one is refused before it is read,
    /// reported and counted, and the client reconnects
    #[arg(long, value_name = "SIZE", default_value = defaults::MAX_MESSAGE, value_parser = crate::cli::size::parse_size, help_heading = "Limits")]
    pub max_message: usize,
    /// A publish timestamp in each event's data (ms or s since the epoch, e.g. `ts` from
    /// `tickertape stocks --ts`): adds latency_ms to --json and p50/p99/max to the dashboard
    #[arg(long, value_name = "PATH", value_parser = observe::binding::FieldPath::parse)]
    pub ts_field: Option<observe::binding::FieldPath>,
    /// Serve Prometheus metrics on ADDR (IP:PORT, or a port on 127.0.0.1) at GET /metrics:
    /// connection state, reconnects, events by channel and event, latency, ping, drops; with
    /// several --node or --profile, each series labelled connection="LABEL"
    #[arg(long, value_name = "ADDR", value_parser = net::metrics::parse_addr)]
    pub metrics: Option<std::net::SocketAddr>,
    /// Mouse: the wheel scrolls the pane under it, a click focuses it and selects a row
    #[arg(long, help_heading = "Dashboard")]
    pub mouse: bool,
    /// At exit, write the dashboard's own timings to FILE as JSON: frames drawn, the most in
    /// any second, key-to-frame latency p50/p99/max, and CPU time
    #[arg(long, value_name = "FILE", help_heading = "Dashboard")]
    pub stats: Option<PathBuf>,
    /// No braille or block characters (meaning stays in ^ v and bold)
    #[arg(long, help_heading = "Dashboard")]
    pub ascii: bool,
    /// The dashboard's colours: default, light (for light backgrounds) or colorblind
    /// (Okabe-Ito, no red against green); the config file's [theme] sets slots over it
    #[arg(long, value_name = "NAME", help_heading = "Dashboard")]
    pub theme: Option<String>,
    /// Send nothing to the server: no trigger form, no client events. The status bar says
    /// READ-ONLY. A profile may say `readonly = true`
    #[arg(long, help_heading = "Dashboard")]
    pub readonly: bool,
    #[command(flatten)]
    pub expect: expect::ExpectArgs,
    /// A node to connect to, as ws://host:port or wss://host:port (repeatable, at most 16):
    /// one connection each, with the same key and secret, labelled host:port, or NAME with
    /// NAME=URL. It takes the place of --host, --port and --scheme
    #[arg(long = "node", value_name = "URL", help_heading = "Connection")]
    pub nodes: Vec<String>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(clap::Args, Debug)]
pub struct ReplayArgs {
    /// A recording made with `tickertape watch --record FILE`
    pub file: PathBuf,
    /// 1 is real time, 10 is ten times faster
    #[arg(long, default_value_t = defaults::REPLAY_SPEED, value_parser = duration::parse_speed)]
    pub speed: f64,
    /// As fast as possible
    #[arg(long, conflicts_with = "speed")]
    pub max: bool,
    /// Start here: an RFC 3339 time, or an offset from the first line (30s, 2m)
    #[arg(long, value_name = "TIME", value_parser = duration::parse_replay_from)]
    pub from: Option<duration::ReplayFrom>,
    /// Print NDJSON instead of the dashboard
    #[arg(long)]
    pub json: bool,
    /// Print the recorded connection states on stderr as JSON lines, each marked
    /// "replayed": true
    #[arg(long)]
    pub json_status: bool,
    /// As for watch
    #[arg(long = "where", value_name = "EXPR", value_parser = observe::jq::Jq::parse)]
    pub where_: Option<observe::jq::Jq>,
    /// As for watch
    #[arg(long = "bind", value_name = "RULE", value_parser = observe::binding::Binding::parse)]
    pub bindings: Vec<observe::binding::Binding>,
    #[arg(long, visible_alias = "bindings", value_name = "FILE")]
    pub bindings_file: Option<PathBuf>,
    #[arg(long, value_name = "PATH", value_parser = observe::binding::FieldPath::parse)]
    pub ts_field: Option<observe::binding::FieldPath>,
    #[arg(long)]
    pub ascii: bool,
}
