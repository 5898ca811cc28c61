//! `tickertape trace`'s flags and plan: one tagged event published through the first node,
//! followed hop by hop to every node (the nodes as `probe` takes them: one resolution of
//! `--node` and `--profile`, with the app's id, key and secret).

use std::time::Duration;

use anyhow::anyhow;

use super::ConnectionArgs;
use super::config_file::Config;
use super::duration::parse_interval;
use super::plan::connections::{UsageError, resolve};
use super::tap::ServerArg;
use client::ClientConfig;
use client::publish::RestClient;
use observe::backplane::redis::{RedisTarget, Source};
use observe::binding::{Binding, Bindings};
use protocol::backplane::Server;

pub const TRACE_HELP: &str = "\
It subscribes to CHANNEL on every node, publishes one tagged event (data {trace, seq, \
sent_at_ms}) through the first node's REST API with a W3C traceparent header (sockudo \
carries it to the other nodes and into its OpenTelemetry spans), and reports each hop \
with its time:
  1. the REST answer, and the subscription_count the server counted after
     publishing;
  2. the broadcast on the backplane (with --tap; never counted: see tap --help);
  3. receipt on each node's socket;
  4. the binding that matches the event (with --bind; name hints as in watch);
  5. the server's webhooks (with --webhooks-listen IP:PORT): the
     channel_occupied of CHANNEL (or, when it was already occupied, of a public channel trace
     subscribes to on the first node) arrives there and its signature verifies,
     with its time from the first publish. A REST publish sends no webhook, so
     this proves the webhook path and the secret, not this event's delivery.
Then the first missing hop in words, e.g. \"never received on B (B is connected and \
subscribed): B is not reading the backplane\".

A server counts subscribers after delivering (sockudo does): a subscriber that received \
the event and left at once is not in subscription_count. The receipts are the real \
answer.

--count N repeats (every --interval), to catch intermittent loss, and reports per node: \
\"B: 7 of 10\". --json prints one object per round and a summary.

Exit status: 0 when every event reached every node; 1 when a hop failed (a publish \
refused, an event missing on a node, a node never connected or subscribed); 2 for usage \
errors.

Examples:
  tickertape trace orders --node ws://10.0.0.1:6001 --node ws://10.0.0.2:6001 \\
    --app-id 1 --key app-key --secret \"$SECRET\"
  tickertape trace orders --node a=ws://10.0.0.1:6001 \\
    --node b=ws://10.0.0.2:6001 --tap redis://10.0.0.5:6379 --count 10 \\
    --app-id 1 --key app-key --secret \"$SECRET\"
  tickertape trace orders --node ws://127.0.0.1:6001 \\
    --webhooks-listen 127.0.0.1:6010 --app-id 1 --key app-key \\
    --secret \"$SECRET\"";

/// `tickertape trace`: one event, followed across the nodes of a cluster.
#[derive(clap::Args, Debug)]
pub struct TraceArgs {
    /// The channel to publish on and receive from (a public or private channel)
    pub channel: String,
    /// A node of the cluster, as [NAME=]ws://HOST:PORT (repeatable, at most 16); the event
    /// is published through the first one's REST API. Without one, the connection flags
    /// name the only node
    #[arg(long = "node", value_name = "ws://HOST:PORT")]
    pub nodes: Vec<String>,
    /// Also follow the event on the cluster's backplane: redis://HOST:PORT (credentials
    /// never shown)
    #[arg(long, value_name = "redis://HOST:PORT")]
    pub tap: Option<String>,
    /// Listen on IP:PORT for the server's webhooks: hop 5 checks that they arrive and
    /// that their signatures verify under the app's secret
    #[arg(long, value_name = "IP:PORT")]
    pub webhooks_listen: Option<std::net::SocketAddr>,
    /// The backplane's server, for --tap
    #[arg(long, value_enum, default_value = "sockudo")]
    pub server: ServerArg,
    /// The prefix of the backplane's channels, for --tap
    #[arg(long, value_name = "P")]
    pub prefix: Option<String>,
    /// The event's name
    #[arg(long, value_name = "NAME", default_value = "tickertape-trace")]
    pub event: String,
    /// A binding as watch takes it, [CHANNEL/]EVENT=VIEW (repeatable): hop 4 says which one
    /// matches the event, or what was probably meant
    #[arg(long = "bind", value_name = "RULE", value_parser = Binding::parse)]
    pub bindings: Vec<Binding>,
    /// How many events, one every --interval
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=10_000))]
    pub count: u32,
    /// Time between events, with --count
    #[arg(long, value_name = "DURATION", default_value = "1s", value_parser = parse_interval)]
    pub interval: Duration,
    /// How long each hop may take: the subscriptions before the first event, then each
    /// event's receipt on every node
    #[arg(long, value_name = "DURATION", default_value = "5s", value_parser = parse_interval)]
    pub wait: Duration,
    /// Print NDJSON: one object per event, then {"summary":…}
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// One node: its name, its engine's settings, its REST API.
pub struct TraceNode {
    pub name: String,
    pub client: ClientConfig,
    pub rest: RestClient,
}

/// Everything `trace` does, resolved.
pub struct TracePlan {
    pub channel: String,
    pub event: String,
    pub nodes: Vec<TraceNode>,
    pub tap: Option<(Source, Server)>,
    pub bindings: Bindings,
    pub count: u32,
    pub interval: Duration,
    pub wait: Duration,
    pub json: bool,
    /// Where to listen for webhooks, and the app they are checked against (the first
    /// node's).
    pub webhooks: Option<(std::net::SocketAddr, server::App)>,
}

impl TracePlan {
    pub fn from_args(args: TraceArgs) -> anyhow::Result<TracePlan> {
        let usage = |text: String| anyhow::Error::new(UsageError(text));
        protocol::channel::validate_channel(&args.channel, false)
            .map_err(|e| usage(format!("{e}")))?;
        if args.channel.starts_with("presence-") || args.channel.starts_with("private-encrypted-") {
            return Err(usage(format!(
                "{}: trace publishes on a public or private channel",
                protocol::safe_text::terminal_safe(&args.channel)
            )));
        }
        let config = Config::read(args.connection.config.as_deref())?;
        let resolved = resolve(args.connection, &args.nodes, &config)?;
        if resolved
            .first()
            .and_then(|c| c.args.secret.clone())
            .is_none()
        {
            return Err(anyhow!(
                "trace needs the app secret (--secret or PUSHER_APP_SECRET): it publishes through the REST API"
            ));
        }
        let app = resolved.first().map(|first| {
            (
                first.args.app_id.clone(),
                first.args.secret.clone().unwrap_or_default(),
            )
        });
        let mut nodes = Vec::with_capacity(resolved.len());
        for c in resolved {
            let name = c.node_name()?;
            nodes.push(TraceNode {
                name,
                client: c.args.client_config()?,
                rest: c.args.rest_client()?,
            });
        }
        let webhooks = match (args.webhooks_listen, app, nodes.first()) {
            (Some(addr), Some((id, secret)), Some(first)) => {
                let key = first.client.key.clone();
                Some((
                    addr,
                    server::App {
                        id: id.unwrap_or_else(|| key.clone()),
                        key,
                        secret: protocol::Secret::new(secret),
                        client_events: true,
                        enabled: true,
                        subscription_count: false,
                    },
                ))
            }
            _ => None,
        };
        let server = Server::from(args.server);
        let tap = match args.tap {
            Some(url) => {
                let target = RedisTarget::parse(&url).map_err(usage)?;
                let prefix = args
                    .prefix
                    .unwrap_or_else(|| server.default_prefix().to_owned());
                Some((
                    Source {
                        target,
                        pattern: server.pattern(&prefix),
                        counted: None,
                        numsub_every: Duration::from_secs(3600),
                        max_message: 1 << 20,
                    },
                    server,
                ))
            }
            None => None,
        };
        Ok(TracePlan {
            channel: args.channel,
            event: args.event,
            nodes,
            tap,
            bindings: Bindings::new(args.bindings),
            count: args.count,
            interval: args.interval,
            wait: args.wait,
            json: args.json,
            webhooks,
        })
    }
}
