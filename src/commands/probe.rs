//! `tickertape probe`: the shell around `crate::probe`. One engine per node (subscribed to
//! the canary channel, and with several nodes to the presence channel), a publish through
//! the nodes' REST APIs in turn every `--interval`, and the lines, metrics and verdict.

use std::io::Write;
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::cli::ConnectionArgs;
use crate::cli::defaults;
use crate::cli::probe::ProbeArgs;
use crate::client::{self, Client, ConnectionState, Item, Reason, SubscriptionStatus};
use crate::expect::Verdict;
use crate::output::ndjson;
use crate::probe::canary::{Outcome, Tracker};
use crate::probe::members::Presence;
use crate::probe::metrics::Metrics;
use crate::probe::state::{Alert, Probe};
use crate::probe::verdict::{self, Thresholds};
use crate::probe::{EVENT, MAX_NODES, lines};
use crate::protocol::frame::Data;
use crate::publish::RestClient;
use crate::safe_text::terminal_safe;

/// How often losses are looked for.
const TICK: Duration = Duration::from_millis(100);
/// Publishes waiting for an answer at once; past it, a tick's publish is an error.
const MAX_IN_FLIGHT: usize = 8;
/// Longest wait for every node's subscription before the first canary.
const READY_WAIT: Duration = Duration::from_secs(5);
/// Leaving: how long the engines get to close their sockets.
const EXIT_WAIT: Duration = Duration::from_millis(500);
/// Longest publish error text kept.
const MAX_ERROR_CHARS: usize = 300;

pub async fn run(args: ProbeArgs) -> anyhow::Result<ExitCode> {
    let window = args.window;
    let json = args.json;
    match (probe(args).await, window) {
        (Ok(code), _) => Ok(code),
        (Err(e), Some(w)) => {
            let v = Verdict::unknown(format!("{e:#}"), w);
            finish(&v, 0, json);
            Ok(ExitCode::from(v.status.code()))
        }
        (Err(e), None) => Err(e),
    }
}

/// One node: its engine's handle, its REST client, and how far it got.
struct Node {
    client: Client,
    rest: RestClient,
    /// The canary subscription succeeded or failed: nothing more to wait for.
    settled: bool,
    /// Refused for good: the engine stopped.
    dead: bool,
}

fn node_args(base: &ConnectionArgs, node: &crate::cli::probe::Node) -> ConnectionArgs {
    ConnectionArgs {
        host: Some(node.host.clone()),
        port: Some(node.port.to_string()),
        scheme: Some(if node.tls { "wss" } else { "ws" }.into()),
        cluster: None,
        ..base.clone()
    }
}

/// Sets up every node, then runs until `--for` ends, Ctrl-C, or stdout closes.
async fn probe(args: ProbeArgs) -> anyhow::Result<ExitCode> {
    if args.nodes.len() > MAX_NODES {
        bail!("at most {MAX_NODES} --node");
    }
    let given: Vec<crate::cli::probe::Node> = args
        .nodes
        .iter()
        .map(|t| crate::cli::probe::parse_node(t))
        .collect::<Result<_, _>>()
        .map_err(crate::cli::plan::connections::UsageError)?;
    for (i, n) in given.iter().enumerate() {
        if given[..i]
            .iter()
            .any(|m| m.host == n.host && m.port == n.port)
        {
            bail!(
                "--node {} is given twice: a cluster check needs each node once",
                n.name
            );
        }
    }
    if args.warn_latency > args.crit_latency {
        bail!(
            "--warn-latency {:?} is above --crit-latency {:?}: a warning comes before critical",
            args.warn_latency,
            args.crit_latency
        );
    }
    let base = args.connection.clone().merged()?;
    let secret = base.secret.clone().ok_or_else(|| {
        anyhow!("probe needs the app secret (--secret or PUSHER_APP_SECRET): it publishes through the REST API and signs its private channel")
    })?;
    let id = defaults::probe_id();
    let channel = args
        .channel
        .clone()
        .unwrap_or_else(|| format!("{}{id}", defaults::PROBE_CHANNEL_PREFIX));
    if !channel.starts_with("private-") || channel.starts_with("private-encrypted-") {
        bail!("--channel {channel:?}: the canaries need a private channel (private-…)");
    }
    crate::protocol::channel::validate_channel(&channel, false)?;
    let suffix = channel.trim_start_matches("private-");
    let presence_channel = format!("presence-{suffix}");
    let per_node: Vec<(String, ConnectionArgs)> = if given.is_empty() {
        let e = base.endpoint()?;
        let scheme = if e.tls { "wss" } else { "ws" };
        let port = if e.tls { e.tls_port } else { e.port };
        vec![(format!("{scheme}://{}:{port}", e.host), base.clone())]
    } else {
        given
            .iter()
            .map(|n| (n.name.clone(), node_args(&base, n)))
            .collect()
    };
    let several = per_node.len() > 1;
    let mut channels = vec![channel.clone()];
    if several {
        channels.push(presence_channel.clone());
    }
    let names: Vec<String> = per_node.iter().map(|(n, _)| n.clone()).collect();
    let metrics = match args.metrics {
        Some(addr) => Some(Metrics::serve(addr, names.clone()).await?),
        None => None,
    };
    let (items_tx, mut items) = mpsc::channel::<(usize, Item)>(1024);
    let mut nodes = Vec::new();
    for (i, (_, conn)) in per_node.iter().enumerate() {
        let mut config = conn.client_config()?;
        config.user.id = format!("{}{i}", defaults::PROBE_USER_PREFIX);
        let rest = conn.rest_client()?;
        let (client, mut feed) = client::connect(config, &channels)?;
        let tx = items_tx.clone();
        tokio::spawn(async move {
            while let Some(item) = feed.recv().await {
                if tx.send((i, item)).await.is_err() {
                    break;
                }
            }
        });
        nodes.push(Node {
            client,
            rest,
            settled: false,
            dead: false,
        });
    }
    drop(items_tx);
    let count = nodes.len();
    let presence = several.then(|| Presence::new(count, args.settle));
    let mut shell = Shell {
        probe: Probe::new(names, Tracker::new(count, args.loss_after), presence),
        metrics,
        json: args.json,
        secret,
        channel: channel.clone(),
        presence_channel,
        id: id.clone(),
        closed: false,
    };
    let start = Instant::now();
    let deadline = args
        .window
        .map(|w| tokio::time::Instant::from_std(start + w));
    let (done_tx, mut done) = mpsc::channel::<(u64, usize, Result<(), String>)>(MAX_IN_FLIGHT * 2);
    let mut publish = tokio::time::interval(args.interval);
    publish.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tick = tokio::time::interval(TICK);
    let mut summary = tokio::time::interval_at(
        tokio::time::Instant::now() + args.summary_every,
        args.summary_every,
    );
    let ctrl_c = super::serve::Shutdown::install().wait();
    tokio::pin!(ctrl_c);
    let (mut seq, mut in_flight, mut skipped) = (0u64, 0usize, 0u64);
    let ready_by = start + READY_WAIT.min(args.loss_after);
    while !shell.closed {
        tokio::select! {
            item = items.recv() => {
                let Some((node, item)) = item else { break };
                shell.item(&mut nodes[node], node, &item);
                if nodes.iter().all(|n| n.dead) {
                    break;
                }
            }
            Some((s, via, result)) = done.recv() => {
                in_flight = in_flight.saturating_sub(1);
                shell.published(s, via, result);
            }
            _ = publish.tick() => {
                let now = Instant::now();
                if shell.probe.presence.is_some()
                    && let Some(a) = shell.probe.check_presence(now)
                {
                    shell.alert(&a);
                }
                if now < ready_by && !nodes.iter().all(|n| n.settled || n.dead) {
                    continue;
                }
                // Our own cap, not the server's answer: the tick is skipped, not failed (a
                // hanging API still shows, as each waiting publish times out).
                if in_flight >= MAX_IN_FLIGHT {
                    skipped += 1;
                    continue;
                }
                seq += 1;
                let via = (seq as usize - 1) % count;
                if !shell.probe.tracker.publishing(seq, via, now) {
                    continue;
                }
                in_flight += 1;
                let publish = Publish { seq, via, timeout: args.loss_after };
                spawn_publish(&nodes[via].rest, &shell.channel, &shell.id, publish, done_tx.clone());
            }
            _ = tick.tick() => {
                for o in shell.probe.tracker.tick(Instant::now()) {
                    shell.outcome(&o);
                }
            }
            _ = summary.tick() => shell.summary(),
            _ = async { match deadline { Some(d) => tokio::time::sleep_until(d).await, None => std::future::pending().await } } => break,
            _ = &mut ctrl_c => break,
        }
    }
    for o in shell.probe.tracker.tick(Instant::now()) {
        shell.outcome(&o);
    }
    shell.summary();
    if skipped > 0 {
        eprintln!(
            "tickertape: {skipped} canaries not published: {MAX_IN_FLIGHT} publishes were still \
             waiting for the API's answer (--interval {:?} is shorter than it takes)",
            args.interval
        );
    }
    let _ = tokio::time::timeout(EXIT_WAIT, async {
        for n in &nodes {
            n.client.disconnect().await;
        }
    })
    .await;
    let Some(_) = args.window else {
        return Ok(ExitCode::SUCCESS);
    };
    let thresholds = Thresholds {
        warn_latency: args.warn_latency,
        crit_latency: args.crit_latency,
    };
    let v = verdict::verdict(&shell.probe, start.elapsed(), thresholds);
    finish(&v, count, args.json);
    Ok(ExitCode::from(v.status.code()))
}

/// One canary's publish: unanswered within `timeout` (`--loss-after`), it is an error.
struct Publish {
    seq: u64,
    via: usize,
    timeout: Duration,
}

fn spawn_publish(
    rest: &RestClient,
    channel: &str,
    id: &str,
    Publish { seq, via, timeout }: Publish,
    done: mpsc::Sender<(u64, usize, Result<(), String>)>,
) {
    let sent_at_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let data = json!({"seq": seq, "sent_at_ms": sent_at_ms, "probe": id}).to_string();
    let (rest, channel) = (rest.clone(), channel.to_owned());
    tokio::spawn(async move {
        let call = rest.trigger(std::slice::from_ref(&channel), EVENT, &data, None, None);
        let result = match tokio::time::timeout(timeout, call).await {
            Ok(Ok(_)) => Ok(()),
            Ok(Err(e)) => Err(e.to_string()),
            Err(_) => Err(format!(
                "no answer within {:.1}s (--loss-after)",
                timeout.as_secs_f64()
            )),
        };
        let _ = done.send((seq, via, result)).await;
    });
}

/// The verdict's line on stdout: Nagios, or `{"verdict":…}` with --json.
fn finish(v: &Verdict, nodes: usize, json: bool) {
    let line = verdict::nagios(v, nodes);
    let text = if json {
        let mut value = crate::expect::report::json(v);
        value["summary"] = json!(line);
        json!({ "verdict": value }).to_string()
    } else {
        line
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}

/// The probe and where its lines go.
struct Shell {
    probe: Probe,
    metrics: Option<Metrics>,
    json: bool,
    secret: String,
    channel: String,
    presence_channel: String,
    id: String,
    /// stdout is closed: time to stop.
    closed: bool,
}

impl Shell {
    fn stdout(&mut self, line: Result<&Value, &str>) {
        let mut out = std::io::stdout().lock();
        let r = match line {
            Ok(v) => ndjson::write_line(&mut out, v),
            Err(text) => writeln!(out, "{text}").and_then(|()| out.flush()),
        };
        self.closed |= r.is_err();
    }

    fn stderr(&self, text: &str) {
        let mut err = std::io::stderr().lock();
        let _ = writeln!(err, "tickertape: {}", terminal_safe(text));
    }

    fn item(&mut self, node: &mut Node, i: usize, item: &Item) {
        let name = self.probe.name(i);
        match item {
            Item::State(c) => {
                self.probe.state(i, c.current);
                if let Some(m) = &self.metrics {
                    m.state(i, c.current);
                }
                let reason = c.reason.as_ref().map(|r| r.to_string());
                node.dead |= match (&c.current, &c.reason) {
                    (ConnectionState::Disconnected, Some(Reason::Requested)) => false,
                    (ConnectionState::Disconnected | ConnectionState::Failed, _) => true,
                    _ => false,
                };
                if self.json {
                    let v = json!({"node": name, "state": c.current.as_str(), "reason": reason});
                    self.stdout(Ok(&v));
                } else {
                    let why = reason.map_or(String::new(), |r| format!(" ({r})"));
                    self.stderr(&format!("{name}: {}{why}", c.current));
                }
            }
            Item::Subscription { channel, status } if *channel == self.channel => match status {
                SubscriptionStatus::Subscribed => node.settled = true,
                SubscriptionStatus::Failed(f) => {
                    node.settled = true;
                    self.stderr(&format!(
                        "{name}: cannot subscribe to {channel}: {}",
                        f.message
                    ));
                }
                _ => {}
            },
            Item::Event(ev)
                if ev.event == EVENT && ev.channel.as_deref() == Some(&self.channel) =>
            {
                let Data::Json(data) = ev.data() else { return };
                if data.get("probe").and_then(Value::as_str) != Some(self.id.as_str()) {
                    return;
                }
                let Some(seq) = data.get("seq").and_then(Value::as_u64) else {
                    return;
                };
                if let Some(o) = self.probe.tracker.arrived(seq, i, Instant::now()) {
                    self.outcome(&o);
                }
            }
            Item::Members {
                channel, change, ..
            } if *channel == self.presence_channel => {
                if let Some(p) = &mut self.probe.presence {
                    p.apply(i, change);
                }
            }
            _ => {}
        }
    }

    fn published(&mut self, seq: u64, via: usize, result: Result<(), String>) {
        if let Some(m) = &self.metrics {
            m.published(via, result.is_ok());
        }
        match result {
            Ok(()) => self.probe.published(seq, via),
            Err(e) => {
                let text = lines::error_text(&e, &self.secret, MAX_ERROR_CHARS);
                let name = self.probe.name(via);
                self.probe.publish_failed(seq, via, text.clone());
                if self.json {
                    let v =
                        json!({"seq": seq, "via": name, "result": "publish_error", "error": text});
                    self.stdout(Ok(&v));
                } else {
                    self.stderr(&format!("canary {seq}: publish via {name} failed: {text}"));
                }
            }
        }
    }

    fn outcome(&mut self, o: &Outcome) {
        if let Some(m) = &self.metrics {
            m.outcome(o);
        }
        let alert = self.probe.outcome(o);
        if self.json {
            let v = lines::result_json(&self.probe, o, SystemTime::now());
            self.stdout(Ok(&v));
        } else {
            let text = lines::result_text(&self.probe, o);
            self.stdout(Err(&text));
        }
        if let Some(a) = alert {
            self.alert(&a);
        }
    }

    fn alert(&mut self, a: &Alert) {
        if let Some(m) = &self.metrics
            && a.kind == "presence_mismatch"
        {
            m.presence(self.probe.presence_differs);
        }
        if self.json {
            let v = lines::alert_json(&self.probe, a, SystemTime::now());
            self.stdout(Ok(&v));
        } else {
            self.stderr(&lines::alert_text(a));
        }
    }

    fn summary(&mut self) {
        if self.json {
            let v = lines::summary_json(&self.probe, SystemTime::now());
            self.stdout(Ok(&v));
        } else {
            let text = lines::summary_text(&self.probe);
            self.stdout(Err(&text));
        }
    }
}
