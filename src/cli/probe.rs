//! `tickertape probe`'s flags (its `--node` and `--profile` are resolved as `watch`'s, by
//! [`super::plan::connections::resolve`]).

use std::net::SocketAddr;
use std::time::Duration;

use super::duration::parse_interval;
use super::{ConnectionArgs, defaults};

pub const PROBE_HELP: &str = "\
Every --interval a canary (event tickertape-canary, data {seq, sent_at_ms, probe}) is \
published through a node's REST API (the nodes in turn) on a private channel, and must \
arrive over the WebSocket on every node. With several --node, every node also joins one \
presence channel (as probe-0, probe-1, …), and their member lists must agree.

On a terminal (without --json or --lines) it is a dashboard: a row per node (state, \
sent, received, lost, late, publish errors, p50/p99/max latency in ms, the last error), \
the presence comparison, an alert strip and a log of the lines below. q or Ctrl-C \
quits, ? shows the help. Once the terminal is restored it prints the summary or, with \
--for, the verdict and its detail (as nagios below), and the exit status is the \
verdict's.

Output, when not the dashboard (--format, or piped):
  nagios  (piped with --for; or --format nagios) nothing while it runs; at the
          end, the verdict's line with perfdata first, as a Nagios plugin's
          status, then the detail as long output: each part of the verdict,
          each node's figures, and the latest alerts, states and errors (20 at
          most).
  lines   (piped without --for; or --lines) a line per canary and node, and a
          summary every --summary-every and at the end, on stdout; alerts and
          connection states on stderr. With --for, the verdict and its detail
          come after them, at the end.
  json    (--json) each of those an NDJSON object:
          {\"seq\",\"via\",\"node\",\"result\",\"latency_ms\"}, {\"summary\":{…}},
          {\"alert\":\"canary_missing\"|\"presence_mismatch\"|
          \"publish_failing\"|\"subscription_failed\",\"change\",\"node\",
          \"detail\"}, states; with --for the last line is {\"verdict\":{…}}
          (the Nagios line in its summary).
A result is received, lost (not there within --loss-after; counted once), late \
(arrived after it was counted lost) or duplicate. Publish errors show the server's \
answer; the secret is never printed. When --for ends, publishing stops and the canaries \
on their way are waited for (at most --loss-after), so every canary published is judged.

With --for the exit status is check's:
  0  OK        every canary arrived on every node, in time
  1  WARNING   p99 latency >= --warn-latency, some publishes failed, or a
               duplicate
  2  CRITICAL  a canary lost on any node, every publish failed, p99 >=
               --crit-latency, a node not connected at the end, a node that
               refused the canary (or presence) subscription or never
               confirmed it, or presence lists that differed past --settle
  3  UNKNOWN   nothing could be judged (stopped before any canary was
               published), or a usage error
  The worst wins: CRITICAL, then WARNING, then UNKNOWN.

Examples:
  # On a terminal: the dashboard
  tickertape probe --profile prod
  tickertape probe --key app-key --secret \"$SECRET\" --app-id 1 --for 30s
  tickertape probe --node ws://10.0.0.1:6001 --node ws://10.0.0.2:6001 \\
    --key app-key --secret \"$SECRET\" --app-id 1 --json \\
    | jq -c 'select(.alert)'
  # For Prometheus, runs until Ctrl-C
  tickertape probe --profile prod --metrics 127.0.0.1:9465 --interval 5s
  # The Nagios status line
  tickertape probe --profile prod --for 1m | head -1
  # Lines as they come, then the verdict
  tickertape probe --profile prod --lines --for 1m";

/// What `probe` prints, when not the dashboard.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeFormat {
    /// A Nagios plugin's output (needs --for): the verdict's line first, then the detail
    Nagios,
    /// A line per canary result, alert and state as they come, the verdict at the end
    Lines,
    /// NDJSON: results, alerts, states, summaries, and the verdict last
    Json,
}

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
    /// What to print instead of the dashboard: nagios (with --for: the verdict's line with
    /// perfdata first, then the detail; nothing while it runs), lines (a line per canary
    /// result, as it comes) or json (NDJSON). Piped, the default is nagios with --for, else
    /// lines
    #[arg(long, value_enum, value_name = "FORMAT", conflicts_with_all = ["json", "lines"])]
    pub format: Option<ProbeFormat>,
    /// Print NDJSON: a line per canary result, alerts, states and summaries (--format json)
    #[arg(long, conflicts_with = "lines")]
    pub json: bool,
    /// Print the lines even on a terminal, or with --for (--format lines)
    #[arg(long)]
    pub lines: bool,
    /// Serve Prometheus metrics on ADDR (IP:PORT, or a port on 127.0.0.1) at GET /metrics:
    /// latency, sent, received, lost, late, duplicates, publish errors, by node
    #[arg(long, value_name = "ADDR", value_parser = net::metrics::parse_addr)]
    pub metrics: Option<SocketAddr>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}
