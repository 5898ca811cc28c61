//! `tickertape probe`: the shell around `observe::probe`. One engine per node (subscribed to
//! the canary channel, and with several nodes to the presence channel), a publish through
//! the nodes' REST APIs in turn every `--interval`, and the lines, metrics and verdict.

use std::io::{IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{anyhow, bail};
use serde_json::json;
use tokio::sync::mpsc;

use super::probe_screen::{self as ui, Shown};
use super::probe_shell::{Node, Output, Shell};
use super::screen_shim::Reports;
use crate::cli::ConnectionArgs;
use crate::cli::defaults;
use crate::cli::probe::ProbeArgs;
use client::publish::RestClient;
use client::{self, Item};
use observe::expect::Verdict;
use observe::probe::canary::Tracker;
use observe::probe::members::Presence;
use observe::probe::metrics::Metrics;
use observe::probe::state::Probe;
use observe::probe::verdict::{self, Thresholds};
use observe::probe::{EVENT, MAX_NODES};
use tui::probe::Probe as Screen;

/// How often losses are looked for.
const TICK: Duration = Duration::from_millis(100);
/// Publishes waiting for an answer at once; past it, a tick's publish is an error.
const MAX_IN_FLIGHT: usize = 8;
/// Longest wait for every node's subscription before the first canary.
const READY_WAIT: Duration = Duration::from_secs(5);
/// Leaving: how long the engines get to close their sockets.
const EXIT_WAIT: Duration = Duration::from_millis(500);

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
    protocol::channel::validate_channel(&channel, false)?;
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
        Some(addr) => {
            let m = Metrics::serve(addr, names.clone()).await?;
            if let Some(addr) = m.addr() {
                eprintln!("tickertape: metrics on http://{addr}/metrics");
            }
            Some(m)
        }
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
    // On a terminal: the screen, with the config file's `[keys]`, fed the probe's reports.
    let (output, screen) = if args.json {
        (Output::Json, None)
    } else if args.lines || !std::io::stdout().is_terminal() {
        (Output::Lines, None)
    } else {
        let keys = crate::cli::config_file::load(args.connection.config.as_deref())?
            .0
            .keys
            .0;
        let (reports, rx) = Reports::new();
        let screen = Screen::new(channel.clone(), args.interval, args.window, Instant::now());
        (Output::Screen(reports), Some((screen, keys, rx)))
    };
    let mut shell = Shell {
        probe: Probe::new(names, Tracker::new(count, args.loss_after), presence),
        metrics,
        output,
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
    let ctrl_c = crate::signals::Signals::install().wait();
    tokio::pin!(ctrl_c);
    let (mut seq, mut in_flight, mut skipped) = (0u64, 0usize, 0u64);
    let ready_by = start + READY_WAIT.min(args.loss_after);
    let color = crate::cli::plan::color_from_env();
    let mut shown: Option<Shown> =
        screen.map(|(screen, keys, rx)| Shown::start(screen, &keys, color, rx));
    let mut failed: Option<std::io::Error> = None;
    while !shell.closed {
        shell.figures();
        tokio::select! {
            // q, Ctrl-C or a signal on the screen: the probe ends too.
            () = ui::ended(&mut shown) => break,
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
    // The screen is restored first: the summary, the notes and the verdict are lines after it.
    if let Some(shown) = shown.take() {
        shell.figures();
        if let Err(e) = shown.stop().await {
            failed = Some(e);
        }
        shell.output = Output::Lines;
    }
    if let Some(e) = failed {
        return Err(anyhow!("the terminal: {e}"));
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
        let mut value = observe::expect::report::json(v);
        value["summary"] = json!(line);
        json!({ "verdict": value }).to_string()
    } else {
        line
    };
    let mut out = std::io::stdout().lock();
    let _ = writeln!(out, "{text}").and_then(|()| out.flush());
}
