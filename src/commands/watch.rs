//! `tickertape watch`: the engines, one per connection, on the run's one pipeline. Its taps
//! (the recording, the metrics, the summary, the expectations) see every item first; then
//! the front end chosen once in the plan shows it: NDJSON or readable lines on stdout
//! through the output thread (connection states on stderr), or the dashboard.

use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use tokio::time::Instant;

use super::lines::Lines;
pub(super) use super::taps::Taps;
use crate::cli::plan::{FrontEnd, FrontPlan, WatchPlan};
use crate::signals::Signals;
use bounded::{Limits, Overflow};
use client::{self, FeedRx, Labels};
use observe::output::{ndjson, writer::Output};
use observe::pipeline::{self, End, Feeds, Observed};

pub use super::lines::{EXIT_AUTH, EXIT_FAILURE};

/// Leaving: how long the engine gets to close the socket (it waits 250 ms for the answer).
const EXIT_WAIT: Duration = Duration::from_millis(500);
/// After Ctrl-C or SIGTERM: how long pending output may take to be written.
const SIGNALLED_OUTPUT_WAIT: Duration = Duration::from_millis(250);

pub async fn run(plan: WatchPlan) -> anyhow::Result<ExitCode> {
    let WatchPlan {
        channels,
        connections,
        labels,
        record,
        front,
    } = plan;
    // The dashboard's trigger form publishes through each connection's own API, and seals
    // for encrypted channels with that connection's key.
    let publishers = connections
        .iter()
        .map(|c| {
            c.rest.clone().map(|rest| client::publish::Publisher {
                rest,
                master_key: c.client.auth.master_key,
            })
        })
        .collect();
    let mut feeds = Feeds::new(front.ts_field.clone());
    let clients = super::connections::start(&mut feeds, connections, &channels)?;
    let taps = Taps::new(&front, &labels, record.as_deref(), &feeds).await?;
    consume(front, feeds, taps, (clients, publishers), labels).await
}

/// Runs the pipeline into the front end of the plan. `clients` is empty when replaying;
/// then the end of the items is a normal end. `labels` names the connections the items are
/// tagged with (none with one connection).
pub(super) async fn consume(
    front: FrontPlan,
    mut feeds: Feeds,
    mut taps: Taps,
    (clients, publishers): (Vec<client::Client>, Vec<Option<client::publish::Publisher>>),
    labels: Labels,
) -> anyhow::Result<ExitCode> {
    if front.end == FrontEnd::Screen {
        let bytes = front.queue_bytes;
        let (mut screen, rx) = pipeline::to_screen(Limits::new(client::DEFAULT_QUEUE_ITEMS, bytes));
        let pipeline = tokio::spawn(async move {
            pipeline::run(
                &mut feeds,
                &mut taps.all(),
                &mut screen,
                std::future::pending(),
                pipeline::TICK,
            )
            .await
        });
        let result = dashboard(front, clients, legacy_feed(rx, bytes), publishers, labels).await;
        pipeline.abort();
        return result;
    }
    let out = Output::spawn_default(Overflow::Block).context("cannot write to stdout")?;
    let deadline = front.timeout.map(|t| Instant::now() + t);
    let mut lines = Lines::new(out, front, labels, !clients.is_empty());
    let mut signals = Signals::install();
    let stop = async {
        tokio::select! {
            _ = signals.next() => End::Interrupted,
            () = sleep_until(deadline) => End::Done,
        }
    };
    let end = pipeline::run(
        &mut feeds,
        &mut taps.all(),
        &mut lines,
        stop,
        pipeline::TICK,
    )
    .await;
    if let Some(summary) = &taps.summary {
        let _ = ndjson::write_line(
            lines.out.buffer(),
            &summary.report(std::time::Instant::now()),
        );
    }
    // Close the sockets cleanly (1000): the engines end, and with them their feeds.
    if !clients.is_empty() {
        let _ = tokio::time::timeout(EXIT_WAIT, async {
            super::connections::disconnect(&clients).await;
            feeds.drain(EXIT_WAIT).await;
        })
        .await;
    }
    // What is still pending is written out: all of it on a normal end, however slow the
    // reader (a signal still ends the wait), and what fits in a moment after a signal.
    let written = match end {
        End::Interrupted => tokio::time::timeout(SIGNALLED_OUTPUT_WAIT, lines.out.finish())
            .await
            .unwrap_or(Ok(())),
        _ => tokio::select! {
            r = lines.out.finish() => r,
            _ = signals.next() => Ok(()),
        },
    };
    let end = match (end, written) {
        (End::Done, Err(e)) => super::lines::write_failed(&e),
        (end, _) => end,
    };
    Ok(exit(end))
}

/// The exit status of a run's end, its reason on stderr.
pub(super) fn exit(end: End) -> ExitCode {
    match end {
        End::Done | End::Interrupted => ExitCode::SUCCESS,
        End::Fail(code, message) => {
            eprintln!("tickertape: {message}");
            ExitCode::from(code)
        }
    }
}

/// Sleeps until `deadline`; forever without one.
pub(super) async fn sleep_until(deadline: Option<Instant>) {
    match deadline {
        Some(at) => tokio::time::sleep_until(at).await,
        None => std::future::pending().await,
    }
}

/// The dashboard still reads a `client::FeedRx`: this relays the pipeline's queue into one.
// Until the TUI kit's watch screen reads the `bounded::Receiver<Observed>` itself; then
// this relay (and its second queue) goes, and the dashboard gets `rx`.
fn legacy_feed(mut rx: bounded::Receiver<Observed>, bytes: usize) -> FeedRx {
    let (tx, feed) = client::feed(client::DEFAULT_QUEUE_ITEMS, bytes);
    tokio::spawn(async move {
        while let Some(o) = rx.recv().await {
            let _ = tx.tagged(o.conn).send(o.item).await;
            if tx.is_closed() {
                break;
            }
        }
    });
    feed
}

/// The bindings, already read by the plan (`--bind`'s, then the file's).
fn rules(d: &crate::cli::plan::DashboardPlan) -> anyhow::Result<Vec<observe::binding::Binding>> {
    Ok(d.bindings.clone())
}

/// The dashboard, when stdout is a terminal and `--json` is not given.
pub async fn dashboard(
    front: FrontPlan,
    clients: Vec<client::Client>,
    items: FeedRx,
    publishers: Vec<Option<client::publish::Publisher>>,
    labels: Labels,
) -> anyhow::Result<ExitCode> {
    use observe::binding::Bindings;
    use tui::dashboard::{State, terminal};
    let options = front.dashboard_options();
    let (expect, bell) = (
        super::expectations::Alarm::evaluator(&front, &labels)?,
        front.expect.bell,
    );
    let rules = rules(&front.dashboard)?;
    let d = front.dashboard;
    let mut state = State::new(options, Bindings::new(rules), std::time::Instant::now());
    state.connections = tui::dashboard::connections::Connections::new(labels);
    state.banner = d.banner;
    if let Some(eval) = expect {
        let now = std::time::Instant::now();
        state.alerts = tui::dashboard::alerts::Alerts::new(eval, bell, now, SystemTime::now());
    }
    // The trigger form sends through the connection of the line it was opened on.
    let senders = terminal::Senders {
        rest: publishers,
        clients: clients.clone(),
    };
    let options = terminal::RunOptions {
        fps: d.fps,
        mouse: d.mouse,
        timeout: front.timeout,
        stats: d.stats,
    };
    let result = terminal::run(state, items, options, senders).await;
    super::connections::disconnect(&clients).await;
    let state = result.context("the terminal failed")?;
    // A refused connection that stayed down ends the dashboard as it ends `--json`: the
    // reason on stderr (the screen is gone by now) and status 1.
    Ok(match state.ended_refused() {
        Some(why) => {
            eprintln!("tickertape: {why}");
            ExitCode::from(EXIT_FAILURE)
        }
        None => ExitCode::SUCCESS,
    })
}
