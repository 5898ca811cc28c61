//! `tickertape check`: connect, subscribe, watch the expectations for `--for`, then print the
//! verdict (a Nagios line, JSON or Prometheus text) and exit with its Nagios code. Whatever
//! goes wrong before the verdict (a bad flag, an unreadable file) is UNKNOWN, status 3.

use std::collections::BTreeSet;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::cli::expect::{CheckArgs, CheckFormat};
use client::{self, ConnectionState, Item, Reason};
use observe::expect::{Evaluator, Expectation, Kind, Settings, Verdict};

/// How often the evaluator is given the time.
const TICK: Duration = Duration::from_millis(100);
/// Leaving: how long the engine gets to close the socket.
const EXIT_WAIT: Duration = Duration::from_millis(500);

pub async fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let format = args.format;
    let window = args.window;
    let verdict = match judge(args).await {
        Ok(v) => v,
        Err(e) => Verdict::unknown(format!("{e:#}"), window),
    };
    let text = match format {
        CheckFormat::Nagios => observe::expect::report::nagios(&verdict) + "\n",
        CheckFormat::Json => format!("{}\n", observe::expect::report::json(&verdict)),
        CheckFormat::Prometheus => observe::expect::report::prometheus(&verdict),
    };
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(text.as_bytes()).and_then(|()| out.flush());
    Ok(ExitCode::from(verdict.status.code()))
}

async fn judge(args: CheckArgs) -> anyhow::Result<Verdict> {
    let (file_text, bindings) = match &args.bindings_file {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?;
            let bindings = observe::binding::parse_file(&text).map_err(anyhow::Error::msg)?;
            (Some(text), bindings)
        }
        None => (None, Vec::new()),
    };
    let flags = args.expect.into_iter().chain(args.warn);
    let mut rules = crate::cli::expect::rules(
        flags,
        file_text.as_deref(),
        &bindings,
        args.ts_field.as_ref(),
    )?;
    if rules.is_empty() {
        rules.push(Expectation::parse("connected").map_err(anyhow::Error::msg)?);
    }
    let channels = channels(&args.channels, &rules)?;
    let connection = args.connection.merged()?;
    let config = connection.client_config()?;
    let (client, mut items) = client::connect(config, &channels).context("cannot check")?;
    let settings = Settings {
        ts_field: args.ts_field,
        latency_window: args.window,
    };
    let start = Instant::now();
    let mut eval = Evaluator::new(rules, settings, start);
    let deadline = tokio::time::Instant::from_std(start + args.window);
    let mut tick = tokio::time::interval(TICK);
    loop {
        tokio::select! {
            item = items.recv() => {
                let Some(item) = item else { break };
                eval.apply(&item, Instant::now());
                if refused(&item) {
                    break;
                }
            }
            _ = tick.tick() => {
                eval.tick(Instant::now());
            }
            _ = tokio::time::sleep_until(deadline) => break,
        }
    }
    let now = Instant::now();
    eval.tick(now);
    let verdict = eval.verdict(now);
    let _ = tokio::time::timeout(EXIT_WAIT, async {
        client.disconnect().await;
        while items.recv().await.is_some() {}
    })
    .await;
    Ok(verdict)
}

/// A state the engine does not come back from: the window ends there.
fn refused(item: &Item) -> bool {
    match item {
        Item::State(c) => match (&c.current, &c.reason) {
            (ConnectionState::Disconnected, Some(Reason::Requested)) => false,
            (ConnectionState::Disconnected | ConnectionState::Failed, _) => {
                if let Some(reason) = &c.reason {
                    eprintln!(
                        "tickertape: connection {}: {}",
                        c.current,
                        protocol::safe_text::terminal_safe(&reason.to_string())
                    );
                }
                true
            }
            _ => false,
        },
        _ => false,
    }
}

/// The channels given, and those the rules name.
fn channels(given: &[String], rules: &[Expectation]) -> anyhow::Result<Vec<String>> {
    let mut all: BTreeSet<String> = given.iter().cloned().collect();
    for r in rules {
        match &r.kind {
            Kind::Cadence { channel, .. } | Kind::Value { channel, .. } => match channel {
                Some(c) => {
                    all.insert(c.clone());
                }
                None if given.is_empty() => anyhow::bail!(
                    "--expect {:?} names no channel: give CHANNEL/… or the channels to subscribe to",
                    r.text
                ),
                None => {}
            },
            Kind::Latency { .. } | Kind::Connected { .. } => {}
        }
    }
    Ok(all.into_iter().collect())
}
