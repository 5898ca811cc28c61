//! `tickertape probe`: wiring. The plan's nodes each get an engine on the pipeline's one
//! fan-in; the probe's model is a tap of it (`observe::probe::shell`), its loop is
//! `observe::probe::run`, and what it reports goes to the front end chosen once: lines or
//! NDJSON through the output thread, or the screen through a bounded queue of reports.

use std::io::Write;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::Context;
use serde_json::json;

use crate::cli::plan::{FrontEnd, ProbePlan};
use crate::cli::probe::ProbeArgs;
use crate::signals::Signals;
use bounded::{Limits, Overflow};
use client::Client;
use client::publish::RestClient;
use observe::expect::Verdict;
use observe::output::writer::Output;
use observe::pipeline::Feeds;
use observe::probe::canary::Tracker;
use observe::probe::members::Presence;
use observe::probe::metrics::Metrics;
use observe::probe::report::Report;
use observe::probe::run::{self, MAX_IN_FLIGHT};
use observe::probe::shell::{Front, Shell};
use observe::probe::state::Probe;
use observe::probe::verdict;

/// Leaving: how long the engines get to close their sockets.
const EXIT_WAIT: Duration = Duration::from_millis(500);
/// After Ctrl-C or SIGTERM: how long pending output may take to be written.
const SIGNALLED_OUTPUT_WAIT: Duration = Duration::from_millis(250);
/// Reports waiting for the screen: the newest win.
const SCREEN_QUEUE: Limits = Limits::new(4096, 4 << 20);

pub async fn run(args: ProbeArgs) -> anyhow::Result<ExitCode> {
    let (window, json) = (
        args.window,
        args.json || args.format == Some(crate::cli::probe::ProbeFormat::Json),
    );
    // Every line of stdout goes through the output thread: a reader that stops reading never
    // holds the probe up (what it could not take is counted, and said at the end).
    let mut out = Output::spawn_default(Overflow::DropNewest).context("cannot write to stdout")?;
    let mut signals = Signals::install();
    let ran = match ProbePlan::from_args(args) {
        Ok(plan) => match Nodes::start(plan, &out).await {
            Ok(nodes) => nodes.run(&mut out, &mut signals).await,
            Err(e) => Err(e),
        },
        Err(e) => Err(e),
    };
    let (code, interrupted) = match (ran, window) {
        (Ok(ran), _) => ran,
        (Err(e), Some(w)) => {
            let v = Verdict::unknown(format!("{e:#}"), w);
            let text = if json {
                verdict_json(&v, 0)
            } else {
                verdict::nagios(&v, 0)
            };
            (finish(&mut out, &v, &text), false)
        }
        (Err(e), None) => return Err(e),
    };
    let lost = out.dropped();
    // Everything is written, unless a signal ends the wait; after a signal, what fits in a
    // moment.
    let written = if interrupted {
        tokio::time::timeout(SIGNALLED_OUTPUT_WAIT, out.finish())
            .await
            .unwrap_or(Ok(()))
    } else {
        tokio::select! {
            r = out.finish() => r,
            _ = signals.next() => Ok(()),
        }
    };
    // A closed stdout (`| head`) is a normal end, and says nothing.
    let closed = written.is_err_and(|e| e.kind() == std::io::ErrorKind::BrokenPipe);
    if lost > 0 && !closed {
        say!("{lost} lines not written: stdout was not read");
    }
    Ok(code)
}

/// The nodes' engines started, and the probe ready to run.
struct Nodes {
    plan: ProbePlan,
    feeds: Feeds,
    clients: Vec<Client>,
    rest: Vec<RestClient>,
    shell: Shell,
}

impl Nodes {
    async fn start(mut plan: ProbePlan, out: &Output) -> anyhow::Result<Nodes> {
        let names: Vec<String> = plan.nodes.iter().map(|n| n.name.clone()).collect();
        let metrics = match plan.metrics {
            Some(addr) => Some(Metrics::serve(addr, names.clone()).await?),
            None => None,
        };
        if let Some(addr) = metrics.as_ref().and_then(Metrics::addr) {
            say!("metrics on http://{addr}/metrics");
        }
        let (channels, mut feeds) = (plan.channels(), Feeds::new(None));
        let (mut clients, mut rest) = (Vec::new(), Vec::new());
        for node in std::mem::take(&mut plan.nodes) {
            clients.push(feeds.connect(node.client, &channels)?.0);
            rest.push(node.rest);
        }
        let n = clients.len();
        let presence = (n > 1).then(|| Presence::new(n, plan.settle));
        let probe = Probe::new(names, Tracker::new(n, plan.pace.loss_after), presence);
        let lines = out.lines().context("the output thread stopped")?;
        let front = match plan.front {
            FrontEnd::Json => Front::Json(lines),
            _ if plan.nagios => Front::Nagios(lines),
            _ => Front::Lines(lines),
        };
        let (secret, channel, id) = (plan.secret.clone(), plan.channel.clone(), plan.id.clone());
        let mut shell = Shell::new(probe, front, secret, channel, id);
        shell.metrics = metrics;
        Ok(Nodes {
            plan,
            feeds,
            clients,
            rest,
            shell,
        })
    }

    /// Runs to the end: the exit status (the verdict's with `--for`), and whether a signal
    /// ended the run.
    async fn run(
        mut self,
        out: &mut Output,
        signals: &mut Signals,
    ) -> anyhow::Result<(ExitCode, bool)> {
        let pace = self.plan.pace;
        let stop = async {
            signals.next().await;
        };
        let ran = if self.plan.front == FrontEnd::Screen {
            let (reports, rx) = bounded::queue::<Report>(SCREEN_QUEUE, Overflow::DropOldest);
            // The lines' front end, for the summary and the verdict after the screen.
            let lines = std::mem::replace(&mut self.shell.front, Front::Screen(reports));
            // The screen ends when the probe does (`--for`), or the probe when the screen
            // does (`q`, Ctrl-C, a signal: its queue closes).
            let (close, closed) = tokio::sync::oneshot::channel::<()>();
            let screen = super::probe_screen::show(&self.plan, rx, closed);
            let (shell, feeds, rest) = (&mut self.shell, &mut self.feeds, &self.rest);
            let probing = async move {
                let ran = run::run(shell, feeds, rest, pace, stop).await;
                // The screen ends with this, and restores the terminal before the summary
                // and the verdict are written.
                shell.front = lines;
                drop(close);
                ran
            };
            let (ran, shown) = tokio::join!(probing, screen);
            shown.context("the terminal")?;
            ran
        } else {
            run::run(&mut self.shell, &mut self.feeds, &self.rest, pace, stop).await
        };
        let json = self.plan.front == FrontEnd::Json;
        // The summary closes the lines and the NDJSON; with --for and text, the verdict's
        // detail holds each node's figures instead.
        if pace.window.is_none() || json {
            self.shell.summary();
        }
        if ran.skipped > 0 {
            say!(
                "{} canaries not published: {MAX_IN_FLIGHT} publishes were still \
                 waiting for the API's answer (--interval {:?} is shorter than it takes)",
                ran.skipped,
                pace.interval
            );
        }
        let _ = tokio::time::timeout(EXIT_WAIT, async {
            for c in &self.clients {
                c.disconnect().await;
            }
        })
        .await;
        let Some(_) = pace.window else {
            return Ok((ExitCode::SUCCESS, ran.interrupted));
        };
        let v = verdict::verdict(
            &self.shell.probe,
            ran.started.elapsed(),
            self.plan.thresholds,
        );
        let nodes = self.clients.len();
        let text = if json {
            verdict_json(&v, nodes)
        } else {
            verdict::nagios_block(&v, &self.shell.probe, &self.shell.story)
        };
        Ok((finish(out, &v, &text), ran.interrupted))
    }
}

/// `{"verdict":…}`, with the Nagios line as its summary (no newline).
fn verdict_json(v: &Verdict, nodes: usize) -> String {
    let mut value = observe::expect::report::json(v);
    value["summary"] = json!(verdict::nagios(v, nodes));
    json!({ "verdict": value }).to_string()
}

/// The verdict on stdout (`text`, from its first line on); its exit status.
fn finish(out: &mut Output, v: &Verdict, text: &str) -> ExitCode {
    let _ = write!(out.buffer(), "{text}");
    if !text.ends_with('\n') {
        let _ = writeln!(out.buffer());
    }
    out.hand_over();
    ExitCode::from(v.status.code())
}
