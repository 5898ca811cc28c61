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
use client::{self, Labels};

/// A connection's link, as the engine keeps it: its state, which no flood holds up.
type Link = tokio::sync::watch::Receiver<client::Link>;
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
        mut front,
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
    // The recording is open before anything connects: a FIFO waits for its reader here.
    let record = match record {
        Some(path) => {
            let started = Instant::now();
            let deadline = front.timeout.map(|t| started + t);
            match super::taps::open_recording(&path, deadline).await? {
                super::taps::Opened::File(file) => {
                    // The wait counts against --timeout.
                    front.timeout = front.timeout.map(|t| t.saturating_sub(started.elapsed()));
                    Some(file)
                }
                super::taps::Opened::TimedOut => return Ok(ExitCode::from(EXIT_FAILURE)),
                super::taps::Opened::Interrupted => return Ok(ExitCode::SUCCESS),
            }
        }
        None => None,
    };
    let mut feeds = Feeds::new(front.ts_field.clone());
    let clients = super::connections::start(&mut feeds, connections, &channels)?;
    let taps = Taps::new(&front, &labels, record, &feeds).await?;
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
        // The screen judges `connected` from each engine's link, as the headless alarm does.
        let links = feeds.links();
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
        let result = dashboard(front, (clients, links), rx, publishers, labels).await;
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
    let unreached = lines.unreached();
    if let Some(report) = lines.filter_report() {
        say!("{report}");
    }
    // Close the sockets cleanly (1000): the engines end, and with them their feeds, whose
    // last items the taps still see (the recording keeps what came before the end).
    if !clients.is_empty() {
        let _ = tokio::time::timeout(EXIT_WAIT, async {
            super::connections::disconnect(&clients).await;
            feeds.drain(&mut taps.all(), EXIT_WAIT).await;
        })
        .await;
    }
    if let Some(summary) = &taps.summary {
        let _ = ndjson::write_line(
            lines.out.buffer(),
            &summary.report(std::time::Instant::now()),
        );
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
    // A connection that never came up: whatever ended the run (--timeout, Ctrl-C), it did
    // not do what it was asked.
    let connect_failed =
        unreached.is_some() || matches!(&end, End::Fail(_, why) if why.starts_with("connection "));
    let end = match end {
        End::Done | End::Interrupted => unreached.map_or(end, |why| End::Fail(EXIT_FAILURE, why)),
        end => end,
    };
    let code = exit(end);
    if connect_failed {
        say!("{}", super::doctor::suggestion());
    }
    Ok(code)
}

/// The exit status of a run's end, its reason on stderr.
pub(super) fn exit(end: End) -> ExitCode {
    match end {
        End::Done | End::Interrupted => ExitCode::SUCCESS,
        End::Fail(code, message) => {
            say!("{message}");
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

/// The bindings, already read by the plan (`--bind`'s, then the file's).
fn rules(d: &crate::cli::plan::DashboardPlan) -> anyhow::Result<Vec<observe::binding::Binding>> {
    Ok(d.bindings.clone())
}

/// The dashboard, when stdout is a terminal and `--json` is not given: the watch screen on
/// the kit. SIGINT, SIGTERM and SIGHUP end it as `q` does: the terminal restored, status 0.
pub async fn dashboard(
    front: FrontPlan,
    (clients, links): (Vec<client::Client>, Vec<(client::Conn, Link)>),
    inputs: bounded::Receiver<Observed>,
    publishers: Vec<Option<client::publish::Publisher>>,
    labels: Labels,
) -> anyhow::Result<ExitCode> {
    use observe::binding::Bindings;
    use tui::watch::{Expectations, Senders, Watch};
    // First of all: a signal from here on ends the screen cleanly.
    let stop = Signals::with_hangup().wait();
    let options = front.dashboard_options();
    let (expect, bell) = (
        super::expectations::Alarm::evaluator(&front, &labels)?,
        front.expect.bell,
    );
    let rules = rules(&front.dashboard)?;
    let build_expect = super::expectations::view_builder(&front, &labels);
    let base_expect = front
        .dashboard
        .base_expect
        .iter()
        .map(|e| e.text.clone())
        .collect();
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
    watch.views = tui::watch::ViewStore {
        views: d.views.clone(),
        path: d.config_path.clone(),
        check: crate::cli::config_file::check_text,
        expect: Some(build_expect),
        base_expect,
    };
    if let Some(view) = d.views.iter().find(|v| Some(&v.name) == d.view.as_ref()) {
        // Its channels are subscribed already; the filter, sort and bindings apply here.
        let _ = watch.load_view(view);
    }
    if let Some(eval) = expect {
        watch.model.alerts =
            Expectations::new(eval, bell, started, SystemTime::now()).with_links(links);
    }
    let mut app = watch.into_app(d.keys.keymap());
    app.set_theme(tui::kit::Theme::with(&d.theme, d.color, d.ascii));
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
    // A refused connection that stayed down, or one that never came up, ends the dashboard
    // as it ends `--json`: the reason on stderr (the screen is gone by now) and status 1.
    let failed = watch
        .ended_refused()
        .map(str::to_owned)
        .or_else(|| watch.ended_unreached());
    Ok(match failed {
        Some(why) => {
            say!("{why}");
            say!("{}", super::doctor::suggestion());
            ExitCode::from(EXIT_FAILURE)
        }
        None => ExitCode::SUCCESS,
    })
}
