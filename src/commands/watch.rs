//! `tickertape watch --json`: the headless front end. Events go to stdout as NDJSON (or as
//! readable lines), connection states to stderr.

use std::io::{self, IsTerminal, Write};
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use tokio::time::Instant;

use crate::cli::plan::{FrontPlan, WatchPlan};
use client::{self, FeedRx, Item, Labels, SubscriptionStatus};
use observe::output::stdout::Stdout;
use observe::output::{lines, ndjson};

/// Most items handled in a row before the output is handed over and signals are looked at.
const BATCH: usize = 256;

/// Exit status for a refused connection or an invalid setup.
pub const EXIT_FAILURE: u8 = 1;
/// Exit status for a failed authorization with `--fail-fast`.
pub const EXIT_AUTH: u8 = 3;

/// Leaving: how long the engine gets to close the socket (it waits 250 ms for the answer).
const EXIT_WAIT: Duration = Duration::from_millis(500);
/// After Ctrl-C or SIGTERM: how long pending output may take to be written.
const SIGNALLED_OUTPUT_WAIT: Duration = Duration::from_millis(250);

enum End {
    Done,
    Fail(u8, String),
}

pub async fn run(plan: WatchPlan) -> anyhow::Result<ExitCode> {
    let WatchPlan {
        channels,
        client: config,
        rest,
        discover: discovery,
        more,
        labels,
        record: recording,
        front,
    } = plan;
    // The dashboard's trigger form publishes through each connection's own API, and seals
    // for encrypted channels with that connection's key.
    let publishers: Vec<Option<client::publish::Publisher>> = std::iter::once((rest, &config))
        .chain(more.iter().map(|c| (c.rest.clone(), &c.client)))
        .map(|(rest, config)| {
            rest.map(|rest| client::publish::Publisher {
                rest,
                master_key: config.auth.master_key,
            })
        })
        .collect();
    let (clients, items) = super::connections::start(config, discovery, more, &channels)?;
    let items = match &recording {
        Some(path) => super::record::record(path, items, front.ts_field.clone(), labels.clone())?,
        None => items,
    };
    consume(front, clients, items, publishers, labels).await
}

/// Hands the items to the front end: the dashboard on a terminal, else lines or NDJSON.
/// `clients` is empty when replaying; then the end of the items is a normal end. `labels`
/// names the connections the items are tagged with (none with one connection).
pub async fn consume(
    args: FrontPlan,
    clients: Vec<client::Client>,
    mut items: FeedRx,
    publishers: Vec<Option<client::publish::Publisher>>,
    labels: Labels,
) -> anyhow::Result<ExitCode> {
    let mut metrics = match args.metrics {
        Some(addr) => {
            let m = observe::metrics::watch::Observer::serve(addr, args.ts_field.clone(), &labels)
                .await?;
            if let (Some(addr), false) = (m.addr(), args.json_status) {
                eprintln!("tickertape: metrics on http://{addr}/metrics");
            }
            Some(m)
        }
        None => None,
    };
    if !args.json && !args.summary && io::stdout().is_terminal() {
        let items = match metrics {
            Some(m) => m.relay(items),
            None => items,
        };
        return dashboard(args, clients, items, publishers, labels).await;
    }
    let mut out = Stdout::spawn().context("cannot write to stdout")?;
    let deadline = args.timeout.map(|t| Instant::now() + t);
    let mut seen = 0u64;
    let mut drops = super::connections::Drops::default();
    let mut summary = args
        .summary
        .then(|| observe::output::summary::Summary::new(std::time::Instant::now()));
    let stop = crate::signals::Signals::install().wait();
    tokio::pin!(stop);
    let mut signalled = false;
    // --expect: alert and recovery lines on stderr, judged per item and once a second.
    let mut alarm = super::expectations::Alarm::new(
        super::expectations::for_watch(&args)?,
        super::expectations::watch_settings(&args),
        (args.json_status, args.expect.bell),
        labels.clone(),
    );
    let mut alarm_tick = tokio::time::interval(super::expectations::TICK);
    // --json with --bind/--bindings: unbound events carry a "did you mean" hint.
    let mut hints = match args.json {
        true => Some(rules(&args.dashboard)?)
            .filter(|r| !r.is_empty())
            .map(|r| (observe::binding::Bindings::new(r), Default::default())),
        false => None,
    };

    let end = 'run: loop {
        let item = tokio::select! {
            item = items.recv_tagged() => item,
            e = out.failed() => break write_failed(e),
            _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => break End::Done,
            _ = &mut stop => {
                signalled = true;
                break End::Done;
            }
            _ = alarm_tick.tick(), if alarm.is_some() => {
                alarm.iter_mut().for_each(|a| a.tick());
                continue 'run;
            }
        };
        let Some(item) = item else {
            if clients.is_empty() {
                break End::Done;
            }
            break End::Fail(EXIT_FAILURE, "the connection engine stopped".into());
        };
        // What is already queued is taken without another turn of the select.
        let mut next = Some(item);
        let mut taken = 0;
        while let Some((conn, item)) = next.take() {
            if let Some(metrics) = &mut metrics {
                metrics.observe(conn, &item);
            }
            if let Some(summary) = &mut summary {
                match &item {
                    Item::Event(ev) if ev.is_application() => summary.event(ev),
                    Item::Dropped { total, .. } => summary.dropped(drops.total(conn, *total)),
                    _ => {}
                }
            }
            alarm.iter_mut().for_each(|a| a.item(conn, &item));
            match handle(
                &args,
                &item,
                labels.get(conn),
                out.buffer(),
                &mut seen,
                &mut hints,
            ) {
                Ok(None) => {}
                Ok(Some(end)) => break 'run end,
                Err(e) => break 'run write_failed(e),
            }
            taken += 1;
            if taken < BATCH && !out.is_full() {
                next = items.try_recv_tagged().ok();
            }
        }
        // Hand the output over once the queue is drained: lines never wait, and bursts cost
        // one write. A reader that does not read holds this up, but never the signals.
        if items.is_empty() || out.is_full() {
            let handed = tokio::select! {
                r = out.flush() => r,
                _ = tokio::time::sleep_until(deadline.unwrap_or_else(Instant::now)), if deadline.is_some() => break End::Done,
                _ = &mut stop => {
                    signalled = true;
                    break End::Done;
                }
            };
            if let Err(e) = handed {
                break write_failed(e);
            }
        }
    };
    if let Some(summary) = &summary {
        let _ = ndjson::write_line(out.buffer(), &summary.report(std::time::Instant::now()));
    }
    // Close the socket cleanly (1000): the engine ends, and with it the item channel.
    if !clients.is_empty() {
        let _ = tokio::time::timeout(EXIT_WAIT, async {
            super::connections::disconnect(&clients).await;
            while items.recv().await.is_some() {}
        })
        .await;
    }
    // What is still pending is written out: all of it on a normal end, however slow the
    // reader (a signal still ends the wait), and what fits in a moment after a signal.
    let written = if signalled {
        tokio::time::timeout(SIGNALLED_OUTPUT_WAIT, out.finish())
            .await
            .unwrap_or(Ok(()))
    } else {
        // `stop` has not fired, so it can still be awaited; it has seen any signal since.
        tokio::select! {
            r = out.finish() => r,
            _ = &mut stop => Ok(()),
        }
    };
    let end = match (end, written) {
        (End::Done, Err(e)) => write_failed(e),
        (end, _) => end,
    };
    Ok(match end {
        End::Done => ExitCode::SUCCESS,
        End::Fail(code, message) => {
            eprintln!("tickertape: {message}");
            ExitCode::from(code)
        }
    })
}

/// A closed stdout (`| head`) is a normal end; any other write error is not.
fn write_failed(e: io::Error) -> End {
    if e.kind() == io::ErrorKind::BrokenPipe {
        End::Done
    } else {
        End::Fail(EXIT_FAILURE, format!("cannot write output: {e}"))
    }
}

/// Writes one item; returns how the run ends, if it does.
/// When replaying, recorded states are history, and never end the run.
fn handle(
    args: &FrontPlan,
    item: &Item,
    label: Option<&str>,
    out: &mut impl Write,
    seen: &mut u64,
    hints: &mut Option<(observe::binding::Bindings, observe::hints::Hints)>,
) -> io::Result<Option<End>> {
    if let Item::Event(ev) = item {
        if args.summary {
            // Counted by the caller; nothing per event.
        } else if args.json {
            let latency = args.ts_field.as_ref().and_then(|p| {
                observe::latency::latency_ms(&ev.data().as_value(), p.pointer(), ev.received_at)
            });
            let hint = hints.as_mut().and_then(|(bindings, hints)| {
                let unbound = ev.is_application()
                    && bindings.lookup(ev.channel.as_deref(), &ev.event).is_none();
                let channel = ev.channel.as_deref().unwrap_or("-");
                unbound
                    .then(|| hints.note(bindings, channel, &ev.event))
                    .flatten()
                    .map(|h| h.text.as_str())
            });
            ndjson::write_event_with(out, ev, latency, label, hint)?;
        } else if let Some(label) = label {
            writeln!(out, "{} {}", safe_label(label), lines::event_line(ev))?;
        } else {
            writeln!(out, "{}", lines::event_line(ev))?;
        }
        if ev.is_application() {
            *seen += 1;
            if args.count.is_some_and(|n| *seen >= n) {
                return Ok(Some(End::Done));
            }
        }
        return Ok(None);
    }
    report_status(args, item, label);
    if args.replayed {
        return Ok(None);
    }
    Ok(match item {
        // The dashboard's exit status follows the same rule.
        Item::State(change) => tui::watch::refusal(change).map(|why| {
            let why = match label {
                Some(l) => {
                    why.replacen("connection ", &format!("connection {} ", safe_label(l)), 1)
                }
                None => why,
            };
            End::Fail(EXIT_FAILURE, why)
        }),
        Item::Subscription {
            channel,
            status: SubscriptionStatus::Failed(f),
        } if args.fail_fast && f.auth => Some(End::Fail(
            EXIT_AUTH,
            protocol::safe_text::terminal_safe(&format!(
                "subscription to {channel} failed: {}",
                f.message
            ))
            .into_owned(),
        )),
        _ => None,
    })
}

/// A replayed status says so: `"replayed": true` in JSON, "replayed:" before a line.
fn report_status(args: &FrontPlan, item: &Item, label: Option<&str>) {
    let mut err = io::stderr().lock();
    if args.json_status {
        if let Some(mut v) = ndjson::status_value(item, SystemTime::now()) {
            if let Some(label) = label {
                v["connection"] = label.into();
            }
            if args.replayed {
                v["replayed"] = true.into();
            }
            let _ = ndjson::write_line(&mut err, &v);
        }
    } else if let Some(line) = lines::status_line(item)
        && !matches!(item, Item::Pong { .. })
    {
        let replayed = if args.replayed { "replayed: " } else { "" };
        let label = label.map_or(String::new(), |l| format!("{}: ", safe_label(l)));
        let _ = writeln!(err, "tickertape: {replayed}{label}{line}");
    }
}

/// A label on a terminal: a profile's name is the user's, but a recording's is anyone's.
fn safe_label(label: &str) -> std::borrow::Cow<'_, str> {
    protocol::safe_text::terminal_safe(label)
}

/// The `--bind` rules, then the bindings file's.
fn rules(d: &crate::cli::plan::DashboardPlan) -> anyhow::Result<Vec<observe::binding::Binding>> {
    let mut rules = d.bindings.clone();
    if let Some(path) = &d.bindings_file {
        let text = std::fs::read_to_string(path)
            .with_context(|| format!("cannot read {}", path.display()))?;
        rules.extend(observe::binding::parse_file(&text).map_err(anyhow::Error::msg)?);
    }
    Ok(rules)
}

/// The dashboard, when stdout is a terminal and `--json` is not given: the watch screen on
/// the kit. SIGINT, SIGTERM and SIGHUP end it as `q` does: the terminal restored, status 0.
pub async fn dashboard(
    front: FrontPlan,
    clients: Vec<client::Client>,
    items: FeedRx,
    publishers: Vec<Option<client::publish::Publisher>>,
    labels: Labels,
) -> anyhow::Result<ExitCode> {
    use observe::binding::Bindings;
    use tui::watch::{Expectations, Senders, Watch};
    // First of all: a signal from here on ends the screen cleanly.
    let stop = crate::signals::Signals::with_hangup().wait();
    let options = front.dashboard_options();
    let (expect, bell) = (
        super::expectations::Alarm::evaluator(&front, &labels)?,
        front.expect.bell,
    );
    let rules = rules(&front.dashboard)?;
    let source = front.source();
    let d = front.dashboard;
    let started = std::time::Instant::now();
    // The trigger form sends through the connection of the line it was opened on.
    let senders = Senders {
        rest: publishers,
        clients: clients.clone(),
    };
    let mut watch = Watch::new(options, Bindings::new(rules), source, started)
        .with_labels(labels)
        .with_senders(senders);
    watch.banner = d.banner;
    if let Some(eval) = expect {
        watch.model.alerts = Expectations::new(eval, bell, started, SystemTime::now());
    }
    let app = watch.into_app(d.keys.keymap());
    let inputs = super::screen_shim::observed(items, front.ts_field);
    let options = tui::kit::RunOptions {
        fps: d.fps,
        mouse: d.mouse,
        timeout: front.timeout,
    };
    let result = tui::kit::run(app, inputs, stop, options).await;
    super::connections::disconnect(&clients).await;
    let ended = result.context("the terminal failed")?;
    let watch = &ended.app.screen;
    if let Some(path) = &d.stats {
        let status = &watch.model.status;
        let report = ended.stats.report(
            std::time::Instant::now(),
            status.total,
            status.dropped,
            tui::kit::pacing::cpu_time(),
        );
        std::fs::write(path, format!("{report}\n"))
            .with_context(|| format!("cannot write {}", path.display()))?;
    }
    // A refused connection that stayed down ends the dashboard as it ends `--json`: the
    // reason on stderr (the screen is gone by now) and status 1.
    Ok(match watch.ended_refused() {
        Some(why) => {
            eprintln!("tickertape: {why}");
            ExitCode::from(EXIT_FAILURE)
        }
        None => ExitCode::SUCCESS,
    })
}
