//! `tickertape tap`'s flags and plan: the backplane to read, how, and what to show.

use std::time::Duration;

use super::duration::{parse_duration, parse_interval};
use super::plan::FrontEnd;
use super::plan::connections::UsageError;
use observe::backplane::nats::{self, NatsTarget};
use observe::backplane::redis::{RedisTarget, Source};
use observe::backplane::{Backplane, Filter};
use protocol::backplane::Server;

pub const TAP_HELP: &str = "\
The tap reads what the nodes of a cluster tell each other on their backplane (Redis, or \
NATS for sockudo's NATS adapter): \
broadcasts (app, channel, event, size, origin node, excluded socket, backplane latency), \
requests and their answers (type, round trip, how many nodes answered of how many \
expected, complete:false), heartbeats (the nodes alive beside the count the cluster \
computes with PUBSUB NUMSUB), dead nodes, and presence replication.

It is never counted. It subscribes with PSUBSCRIBE only, which PUBSUB NUMSUB does not \
count: sockudo and soketi size their cross-node queries by that count, and a plain \
SUBSCRIBE would make every GET /channels, /users and info= query wait for an answer the \
tap never gives (5 s each). Reverb counts by PUBLISH's answer, which includes pattern \
subscribers: there a tap makes each metrics request (GET /channels, /users, info=) wait \
for Reverb's 10 s timeout before it answers, with every real node's data. So on Reverb \
it refuses to start unless --allow-counted says that delay is acceptable. It never \
publishes.

On NATS (nats://, sockudo only) it subscribes to {prefix}.> (broadcast, requests, \
responses, node). That is not counted either: sockudo's NATS adapter sizes its queries by \
its nodes_number setting or by the NATS servers answering a $SYS ping, never by \
subscribers. There is no cluster-computed node count to show beside the heartbeats. A \
tap that falls behind loses messages (counted); NATS never slows the cluster for it.

Reverb's messages carry the app's serialized configuration, its secret included: only \
the app's id and key are read from it; the secret is never printed, logged or kept. \
Redis and NATS URL credentials are never printed. Payloads are shown cut, terminal-safe.

On a terminal it is a screen (nodes, rates by channel and event, the requests, a log; q \
quits). Piped, or with --json, one NDJSON object per message:
  {\"time\",\"type\":\"broadcast\",\"backplane_channel\",\"bytes\",\"node\",\"app_id\",
   \"channel\",\"event\",\"size\",\"except_socket_id\",\"latency_ms\",\"traceparent\",
   \"data\"}
  {\"type\":\"request\",\"request_type\",\"request_id\",\"node\",\"app_id\",\"channel\",
   \"user_id\",…}
  {\"type\":\"response\",\"request_id\",\"node\",\"complete\",\"expected_responses\",
   \"round_trip_ms\"}
  {\"type\":\"notice\",\"notice\":\"node_seen\"|\"node_dead\"|\"counts_differ\"|
   \"counts_agree\"|\"request_incomplete\",\"text\"}
The connection's state, and messages dropped because the output fell behind, go to stderr.

Exit status: 0 at --count, --timeout, Ctrl-C or q; 1 when the backplane was never reached; 2 for \
usage errors.

Examples:
  tickertape tap redis://127.0.0.1:6379
  tickertape tap redis://127.0.0.1:6379 --json | jq -c 'select(.event)'
  tickertape tap redis://:pass@10.0.0.5:6379 --server soketi --channel 'ord*'
  tickertape tap redis://127.0.0.1:6379 --server reverb --allow-counted --json
  tickertape tap nats://127.0.0.1:4222 --json";

/// The backplane's server, as a flag.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerArg {
    Sockudo,
    Soketi,
    Reverb,
}

impl From<ServerArg> for Server {
    fn from(s: ServerArg) -> Server {
        match s {
            ServerArg::Sockudo => Server::Sockudo,
            ServerArg::Soketi => Server::Soketi,
            ServerArg::Reverb => Server::Reverb,
        }
    }
}

/// `tickertape tap`: the cluster's backplane, seen without being counted.
#[derive(clap::Args, Debug)]
pub struct TapArgs {
    /// The backplane: redis://[[USER]:PASSWORD@]HOST:PORT[/DB], or sockudo's NATS adapter's
    /// server, nats://[USER:PASSWORD@|TOKEN@]HOST[:PORT] (credentials are never shown)
    // Parsed when the plan is made: clap's own error would repeat the value, credentials
    // and all.
    #[arg(value_name = "redis://HOST:PORT|nats://HOST:PORT")]
    pub url: String,
    /// The cluster's server, for its channel names and message shapes
    #[arg(long, value_enum, default_value = "sockudo")]
    pub server: ServerArg,
    /// The prefix of its channels [default: sockudo_adapter: for sockudo, none for soketi;
    /// for Reverb, the channel itself: REVERB_SCALING_CHANNEL, reverb]
    #[arg(long, value_name = "P")]
    pub prefix: Option<String>,
    /// Show only this app's messages (its id; on Reverb, its id or key)
    #[arg(long, value_name = "ID")]
    pub app_id: Option<String>,
    /// Show only messages about Pusher channels matching GLOB (* and ?)
    #[arg(long, value_name = "GLOB")]
    pub channel: Option<String>,
    /// Print NDJSON on stdout, one object per message
    #[arg(long)]
    pub json: bool,
    /// Start even where the server counts the tap as a node (Reverb: each metrics request
    /// then waits for its 10 s timeout)
    #[arg(long)]
    pub allow_counted: bool,
    /// Stop after N messages shown (NDJSON; the screen runs until q or --timeout)
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Stop after this long
    #[arg(long, value_name = "DURATION", value_parser = parse_duration)]
    pub timeout: Option<Duration>,
    /// How often the cluster's node count is asked (PUBSUB NUMSUB)
    #[arg(long, value_name = "DURATION", default_value = "2s", value_parser = parse_interval)]
    pub numsub_every: Duration,
    /// A backplane message bigger than this is counted and not shown
    #[arg(long, value_name = "SIZE", default_value = "1MiB", value_parser = super::size::parse_size)]
    pub max_message: usize,
    /// Serve Prometheus metrics on ADDR (IP:PORT, or a port on 127.0.0.1) at GET /metrics:
    /// messages by kind, the broadcast rate, the node counts (NUMSUB and heartbeats),
    /// requests pending and incomplete, dead nodes, messages lost; beside the screen or
    /// the NDJSON
    #[arg(long, value_name = "ADDR", value_parser = net::metrics::parse_addr)]
    pub metrics: Option<std::net::SocketAddr>,
}

/// Everything `tap` does, resolved.
#[derive(Debug)]
pub struct TapPlan {
    pub source: Backplane,
    pub server: Server,
    pub filter: Filter,
    pub front: FrontEnd,
    pub count: Option<u64>,
    pub timeout: Option<Duration>,
    pub metrics: Option<std::net::SocketAddr>,
    pub color: bool,
    pub keys: tui::keys::KeyTable,
}

impl TapPlan {
    pub fn from_args(args: TapArgs) -> anyhow::Result<TapPlan> {
        let usage = |text: String| anyhow::Error::new(UsageError(text));
        let server = Server::from(args.server);
        let is_nats = args.url.starts_with("nats://") || args.url.starts_with("tls://");
        if is_nats && server != Server::Sockudo {
            return Err(usage(format!(
                "{}: a NATS backplane is sockudo's (its NATS adapter): --server {} uses Redis",
                net::http_url::redact(&args.url),
                server.as_str()
            )));
        }
        if server == Server::Reverb && !args.allow_counted {
            return Err(usage(
                "on Reverb a tap is counted: Reverb waits for as many answers to each metrics \
                 request (GET /channels, /users, info=) as PUBLISH reached subscribers, pattern \
                 subscribers included, and the tap never answers, so each such request would \
                 wait for Reverb's 10 s timeout (its answer still complete). Give \
                 --allow-counted to tap it anyway"
                    .into(),
            ));
        }
        let prefix = args
            .prefix
            .unwrap_or_else(|| server.default_prefix().to_owned());
        let front = FrontEnd::choose(args.json, false, FrontEnd::Json);
        let config = super::config_file::Config::read(None)?;
        let source = if is_nats {
            // Not counted: sockudo's NATS adapter sizes its queries by its nodes_number
            // setting or by the NATS servers answering $SYS.REQ.SERVER.PING, never by
            // subscribers.
            Backplane::Nats(nats::Source {
                target: NatsTarget::parse(&args.url).map_err(usage)?,
                subject: nats::subject_for(&prefix).map_err(usage)?,
                max_message: args.max_message,
            })
        } else {
            Backplane::Redis(Source {
                target: RedisTarget::parse(&args.url).map_err(usage)?,
                pattern: server.pattern(&prefix),
                counted: server.counted_channel(&prefix),
                numsub_every: args.numsub_every,
                max_message: args.max_message,
            })
        };
        Ok(TapPlan {
            source,
            server,
            filter: Filter {
                app_id: args.app_id,
                channel: args.channel,
            },
            front,
            count: args.count,
            timeout: args.timeout,
            metrics: args.metrics,
            color: super::plan::color_from_env(),
            keys: config.file.keys.0,
        })
    }
}
