//! The probe's loop: the nodes' items come through the pipeline's one fan-in
//! ([`Feeds`]) to the [`Shell`], a canary is published through the nodes' REST APIs in turn
//! every `--interval`, losses are looked for on a tick, and a summary is said every
//! `--summary-every`, until `--for` ends, the caller's `stop` resolves (a signal), the front
//! end is gone (stdout closed, the screen quit), or every node is refused for good. Nothing
//! in it waits on stdout: the output thread does.
//!
//! When `--for` ends, publishing stops and the canaries still on their way are waited for,
//! at most `--loss-after` (each publish is answered or given up within it): every canary
//! published in the window is judged, received or lost, so a run no longer than
//! `--loss-after` still sees its losses. A healthy run ends at once; a signal, a closed
//! stdout or a quit end the wait too.

use std::future::Future;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use serde_json::json;
use tokio::sync::mpsc;

use super::EVENT;
use super::shell::Shell;
use crate::pipeline::{Feeds, Tap};
use client::publish::RestClient;

/// How often losses are looked for (and a screen gets the figures).
const TICK: Duration = Duration::from_millis(100);
/// Publishes waiting for an answer at once; past it, a tick's publish is skipped.
pub const MAX_IN_FLIGHT: usize = 8;
/// Longest wait for every node's subscription before the first canary.
const READY_WAIT: Duration = Duration::from_secs(5);
/// After `--for`: the wait for canaries on their way is `--loss-after` and this much more, for
/// the last publish's answer (or its time-out) to come in.
const DRAIN_SLACK: Duration = Duration::from_millis(300);

/// The pace of a run.
#[derive(Debug, Clone, Copy)]
pub struct Pace {
    pub interval: Duration,
    pub loss_after: Duration,
    pub summary_every: Duration,
    /// `--for`.
    pub window: Option<Duration>,
}

/// How a run went, beyond the probe's own figures.
#[derive(Debug, Clone, Copy)]
pub struct Ran {
    pub started: Instant,
    /// Ticks with no canary: [`MAX_IN_FLIGHT`] publishes were still waiting.
    pub skipped: u64,
    /// `stop` ended it (a signal): what is left to write gets only a moment.
    pub interrupted: bool,
}

/// A publish's answer: the canary, the node it went through, and how it went.
type Done = (u64, usize, Result<(), String>);

/// Runs the probe until `--for` ends, `stop` resolves, the front end is gone, or every node
/// is refused. `rest` is each node's REST API, by index.
pub async fn run(
    shell: &mut Shell,
    feeds: &mut Feeds,
    rest: &[RestClient],
    pace: Pace,
    stop: impl Future<Output = ()>,
) -> Ran {
    let started = Instant::now();
    let deadline = pace
        .window
        .map(|w| tokio::time::Instant::from_std(started + w));
    let (done_tx, mut done) = mpsc::channel::<Done>(MAX_IN_FLIGHT * 2);
    let mut publish = tokio::time::interval(pace.interval);
    publish.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    let mut tick = tokio::time::interval(TICK);
    let mut summary = tokio::time::interval_at(
        tokio::time::Instant::now() + pace.summary_every,
        pace.summary_every,
    );
    tokio::pin!(stop);
    let (mut seq, mut in_flight, mut skipped) = (0u64, 0usize, 0u64);
    let ready_by = started + READY_WAIT.min(pace.loss_after);
    let count = rest.len().max(1);
    let mut interrupted = false;
    // Set when `--for` ends: until then the canaries on their way are waited for.
    let mut draining: Option<tokio::time::Instant> = None;
    loop {
        tokio::select! {
            o = feeds.next() => {
                let Some(o) = o else { break };
                shell.observe(&o);
                if shell.all_dead() {
                    break;
                }
            }
            Some((s, via, result)) = done.recv() => {
                in_flight = in_flight.saturating_sub(1);
                shell.published(s, via, result);
            }
            _ = publish.tick(), if draining.is_none() => {
                let now = Instant::now();
                if shell.probe.presence.is_some()
                    && let Some(a) = shell.probe.check_presence(now)
                {
                    shell.alert(&a);
                }
                if now < ready_by && !shell.ready() {
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
                let Some(api) = rest.get(via) else { continue };
                if !shell.probe.tracker.publishing(seq, via, now) {
                    continue;
                }
                in_flight += 1;
                let canary = Canary { seq, via, timeout: pace.loss_after };
                spawn_publish(api, shell, canary, done_tx.clone());
            }
            _ = tick.tick() => {
                for o in shell.probe.tracker.tick(Instant::now()) {
                    shell.outcome(&o);
                }
                shell.figures();
                if draining.is_some() && in_flight == 0 && shell.probe.tracker.waiting() == 0 {
                    break;
                }
            }
            _ = summary.tick() => shell.summary(),
            () = async { match deadline {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            } }, if draining.is_none() => {
                if in_flight == 0 && shell.probe.tracker.waiting() == 0 {
                    break;
                }
                draining = Some(tokio::time::Instant::now() + pace.loss_after + DRAIN_SLACK);
            }
            () = async { match draining {
                Some(d) => tokio::time::sleep_until(d).await,
                None => std::future::pending().await,
            } } => break,
            () = &mut stop => {
                interrupted = true;
                break;
            }
            () = shell.front.ended() => break,
        }
    }
    for o in shell.probe.tracker.tick(Instant::now()) {
        shell.outcome(&o);
    }
    Ran {
        started,
        skipped,
        interrupted,
    }
}

/// One canary's publish: unanswered within `timeout` (`--loss-after`), it is an error.
struct Canary {
    seq: u64,
    via: usize,
    timeout: Duration,
}

fn spawn_publish(rest: &RestClient, shell: &Shell, canary: Canary, done: mpsc::Sender<Done>) {
    let Canary { seq, via, timeout } = canary;
    let sent_at_ms = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_millis() as u64);
    let data = json!({"seq": seq, "sent_at_ms": sent_at_ms, "probe": shell.id}).to_string();
    let (rest, channel) = (rest.clone(), shell.channel.clone());
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
