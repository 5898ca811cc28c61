//! `tickertape probe`'s flags (its `--node` and `--profile` are resolved as `watch`'s, by
//! [`super::plan::connections::resolve`]).

use std::net::SocketAddr;
use std::time::Duration;

use super::duration::parse_interval;
use super::{ConnectionArgs, defaults};

pub const PROBE_HELP: &str = "\
Every --interval a canary (event tickertape-canary, data {seq, sent_at_ms, probe}) is
published through a node's REST API (the nodes in turn) on a private channel, and must
arrive over the WebSocket on every node. With several --node, every node also joins one
presence channel (as probe-0, probe-1, …), and their member lists must agree.

On a terminal (without --json or --lines) it is a dashboard: a row per node (state, sent,
received, lost, late, publish errors, p50/p99/max latency in ms, the last error), the
presence comparison, an alert strip and a log of the lines below. q or Ctrl-C quits, ?
shows the help; the summary and, with --for, the verdict are printed once the terminal is
restored, and the exit status is the verdict's, as below.

Output (stdout, or on a terminal with --lines): a line per canary and node, and a summary
every --summary-every and at the end; --json makes each an NDJSON object: {\"seq\",\"via\",\"node\",\"result\",\"latency_ms\"},
{\"summary\":{…}} and {\"alert\":\"canary_missing\"|\"presence_mismatch\"|\"publish_failing\"|
  \"subscription_failed\",\"change\",\"node\",\"detail\"}.
Without --json, alerts and connection states go to stderr. A result is received, lost (not
there within --loss-after; counted once), late (arrived after it was counted lost) or
duplicate. Publish errors show the server's answer; the secret is never printed.

With --for, the last line is the verdict, with perfdata, and the exit status is check's:
  0  OK
  1  WARNING   p99 latency >= --warn-latency, some publishes failed, or a duplicate
  2  CRITICAL  a canary lost on any node, every publish failed, p99 >= --crit-latency,
               a node not connected at the end, or presence lists that differed past
               --settle
  3  UNKNOWN   nothing to judge (no canary published or received), or a usage error
  The worst wins: CRITICAL, then WARNING, then UNKNOWN.

Examples:
  tickertape probe --profile prod                       # on a terminal: the dashboard
  tickertape probe --key app-key --secret \"$SECRET\" --app-id 1 --for 30s
  tickertape probe --node ws://10.0.0.1:6001 --node ws://10.0.0.2:6001 --json | jq -c 'select(.alert)'
  tickertape probe --metrics 127.0.0.1:9465 --interval 5s      # for Prometheus, runs until Ctrl-C
  tickertape probe --profile prod --lines --for 1m             # lines on a terminal, as when piped";

/// `tickertape probe`: a synthetic canary through one node or a whole cluster.
#[derive(clap::Args, Debug)]
pub struct ProbeArgs {
    /// A node of the app's cluster, reached directly, as [NAME=]ws://HOST:PORT (repeatable,
    /// at most 16): its REST API is on the same address. Without one, the connection flags
    /// name the only node (or each repeated --profile one)
    // Parsed when the plan is made, as `watch --node` is: clap's own error would repeat the
    // value, credentials and all.
    #[arg(long = "node", value_name = "ws://HOST:PORT")]
    pub nodes: Vec<String>,
    /// How often a canary is published
    #[arg(long, value_name = "DURATION", default_value = defaults::PROBE_INTERVAL, value_parser = parse_interval)]
    pub interval: Duration,
    /// A canary not received on a node within this is lost there
    #[arg(long, value_name = "DURATION", default_value = defaults::PROBE_LOSS_AFTER, value_parser = parse_interval)]
    pub loss_after: Duration,
    /// How long presence member lists may differ between nodes before it is an alert
    #[arg(long, value_name = "DURATION", default_value = defaults::PROBE_SETTLE, value_parser = parse_interval)]
    pub settle: Duration,
    /// The private channel of the canaries [default: private-tickertape-probe-<random>]
    #[arg(long, value_name = "CHANNEL")]
    pub channel: Option<String>,
    /// End after this window and exit with a Nagios status (see below)
    #[arg(long = "for", value_name = "DURATION", value_parser = parse_interval)]
    pub window: Option<Duration>,
    /// p99 latency at or above this is a WARNING
    #[arg(long, value_name = "DURATION", default_value = defaults::PROBE_WARN_LATENCY, value_parser = parse_interval)]
    pub warn_latency: Duration,
    /// p99 latency at or above this is CRITICAL
    #[arg(long, value_name = "DURATION", default_value = defaults::PROBE_CRIT_LATENCY, value_parser = parse_interval)]
    pub crit_latency: Duration,
    /// How often the summary is printed
    #[arg(long, value_name = "DURATION", default_value = defaults::PROBE_SUMMARY_EVERY, value_parser = parse_interval)]
    pub summary_every: Duration,
    /// Print NDJSON: a line per canary result, alerts, states and summaries
    #[arg(long, conflicts_with = "lines")]
    pub json: bool,
    /// Print the lines even on a terminal (there, probe is a dashboard by default)
    #[arg(long)]
    pub lines: bool,
    /// Serve Prometheus metrics on ADDR (IP:PORT, or a port on 127.0.0.1) at GET /metrics:
    /// latency, sent, received, lost, late, duplicates, publish errors, by node
    #[arg(long, value_name = "ADDR", value_parser = net::metrics::parse_addr)]
    pub metrics: Option<SocketAddr>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}
