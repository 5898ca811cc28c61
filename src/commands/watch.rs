//! `tickertape watch`: the engines, one per connection, on the run's one pipeline. Its taps
//! (the recording, the metrics, the summary, the expectations) see every item first; then
//! the front end chosen once in the plan shows it: NDJSON or readable lines on stdout
//! through the output thread (connection states on stderr), or the dashboard.

use std::io::BufWriter;
use std::path::Path;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

use anyhow::Context;
use tokio::time::Instant;

use super::lines::Lines;
use crate::cli::plan::{FrontEnd, FrontPlan, WatchPlan};
use crate::signals::Signals;
use bounded::{Limits, Overflow, TrySendError, Weigh};
use client::{self, FeedRx, Labels};
use observe::metrics::watch::Observer;
use observe::output::{ndjson, summary::Summary, writer::Output};
use observe::pipeline::{self, End, Feeds, Front, Observed, Tap};
use observe::recording::Recording;

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

/// The observers of a run, each a tap of its pipeline.
pub(super) struct Taps {
    recording: Option<Recording<BufWriter<std::fs::File>>>,
    metrics: Option<Observer>,
    summary: Option<Summary>,
    alarm: Option<super::expectations::Alarm>,
}

impl Taps {
    /// The taps `front` asks for; the expectations read each engine's link of `feeds`.
    pub(super) async fn new(
        front: &FrontPlan,
        labels: &Labels,
        record: Option<&Path>,
        feeds: &Feeds,
    ) -> anyhow::Result<Taps> {
        let recording = match record {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("cannot create the recording {}", path.display()))?;
                Some(Recording::new(BufWriter::new(file), labels.clone()))
            }
            None => None,
        };
        let metrics = match front.metrics {
            Some(addr) => {
                let m = Observer::serve(addr, labels).await?;
                if let (Some(addr), false) = (m.addr(), front.json_status) {
                    eprintln!("tickertape: metrics on http://{addr}/metrics");
                }
                Some(m)
            }
            None => None,
        };
        // The dashboard judges the expectations and counts on its own screen.
        let headless = front.end != FrontEnd::Screen;
        Ok(Taps {
            recording,
            metrics,
            summary: (front.end == FrontEnd::Summary)
                .then(|| Summary::new(std::time::Instant::now())),
            alarm: headless
                .then(|| super::expectations::Alarm::new(front, labels.clone(), feeds.links()))
                .flatten(),
        })
    }

    fn all(&mut self) -> Vec<&mut dyn Tap> {
        let mut all: Vec<&mut dyn Tap> = Vec::new();
        if let Some(t) = &mut self.recording {
            all.push(t);
        }
        if let Some(t) = &mut self.metrics {
            all.push(t);
        }
        if let Some(t) = &mut self.summary {
            all.push(t);
        }
        if let Some(t) = &mut self.alarm {
            all.push(t);
        }
        all
    }
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
        let (tx, rx) = bounded::queue(
            Limits::new(client::DEFAULT_QUEUE_ITEMS, bytes),
            Overflow::Block,
        );
        let pipeline = tokio::spawn(async move {
            let mut screen = ScreenFront { tx, pending: None };
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

/// The dashboard's end of the pipeline: the items go into a bounded queue the screen reads
/// ([`bounded::Receiver<Observed>`]); when it is full the pipeline waits (its feeds fill, and
/// their engines drop and count events), and when the screen has quit, the run ends.
struct ScreenFront {
    tx: bounded::Sender<Observed>,
    pending: Option<Observed>,
}

impl ScreenFront {
    fn send(&mut self, o: Observed) -> Option<End> {
        match self.tx.try_send(o) {
            Ok(()) => None,
            Err(TrySendError::Full(o, bounded::Cause::Oversize)) => {
                let note = format!(
                    "an item of {} bytes is larger than the dashboard's queue: not shown",
                    o.weight()
                );
                self.pending = Some(Observed::new(o.conn, client::Item::Error(note), None));
                None
            }
            Err(TrySendError::Full(o, _)) => {
                self.pending = Some(o);
                None
            }
            Err(TrySendError::Closed(_)) => Some(End::Done),
        }
    }
}

impl Front for ScreenFront {
    fn take(&mut self, o: Observed) -> Option<End> {
        self.send(o)
    }

    fn ready(&self) -> bool {
        self.pending.is_none()
    }

    async fn wait(&mut self) -> Option<End> {
        let Some(weight) = self.pending.as_ref().map(Weigh::weight) else {
            self.tx.closed().await;
            return Some(End::Done);
        };
        if !self.tx.room_for(weight).await {
            return Some(End::Done);
        }
        let o = self.pending.take()?;
        self.send(o)
    }

    fn idle(&mut self) -> Option<End> {
        None
    }

    fn sources_ended(&mut self) -> End {
        End::Done
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
