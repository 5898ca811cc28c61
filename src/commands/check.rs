//! `tickertape check`: connect, subscribe, judge the expectations and the subscriptions for
//! `--for` (a tap of the pipeline), then print the verdict (a Nagios line, JSON or
//! Prometheus text) and exit with its Nagios code. The window ends early once the verdict
//! can only be CRITICAL (a refusal, a server unreachable past its grace, a broken
//! `--expect`). Whatever goes wrong before the verdict (a bad flag, an unreadable file) is
//! UNKNOWN, status 3.

use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::cli::expect::{CheckArgs, CheckFormat};
use crate::cli::plan::CheckPlan;
use client::{ConnectionState, Item, Reason};
use observe::expect::{Evaluator, Subscriptions, Verdict};
use observe::pipeline::{self, End, Feeds, Front, Observed, Tap};
use tokio::sync::Notify;

/// How often the evaluator is given the time.
const TICK: Duration = Duration::from_millis(100);
/// Leaving: how long the engine gets to close the socket.
const EXIT_WAIT: Duration = Duration::from_millis(500);

pub async fn run(args: CheckArgs) -> anyhow::Result<ExitCode> {
    let (format, window) = (args.format, args.window);
    let verdict = match CheckPlan::from_args(args) {
        Ok(plan) => judge(plan).await,
        Err(e) => Err(e),
    }
    .unwrap_or_else(|e| Verdict::unknown(format!("{e:#}"), window));
    let text = match format {
        CheckFormat::Nagios => observe::expect::report::nagios(&verdict) + "\n",
        CheckFormat::Json => format!("{}\n", observe::expect::report::json(&verdict)),
        CheckFormat::Prometheus => observe::expect::report::prometheus(&verdict),
    };
    let _ = super::print(text.into_bytes()).await;
    Ok(ExitCode::from(verdict.status.code()))
}

async fn judge(plan: CheckPlan) -> anyhow::Result<Verdict> {
    let mut feeds = Feeds::new(plan.settings.ts_field.clone());
    let (client, _) = feeds
        .connect(plan.client, &plan.channels)
        .context("cannot check")?;
    let decided = Arc::new(Notify::new());
    let mut judge = Judge {
        eval: Evaluator::new(plan.rules, plan.settings, Instant::now()),
        subscriptions: Subscriptions::new(&plan.channels),
        decided: Arc::clone(&decided),
    };
    let window = tokio::time::sleep(plan.window);
    let stop = async {
        tokio::select! {
            () = window => {}
            () = decided.notified() => {}
        }
        End::Done
    };
    pipeline::run(&mut feeds, &mut [&mut judge], &mut Refusal, stop, TICK).await;
    let now = Instant::now();
    judge.eval.tick(now);
    let mut verdict = judge.eval.verdict(now);
    if let Some(o) = judge.subscriptions.outcome(judge.eval.ever_connected()) {
        verdict.add(o);
    }
    let _ = tokio::time::timeout(EXIT_WAIT, async {
        client.disconnect().await;
        feeds.drain(&mut [], EXIT_WAIT).await;
    })
    .await;
    Ok(verdict)
}

/// The check's judge, a tap of the pipeline: the expectations and the subscriptions. Once
/// the verdict can only be CRITICAL it says so, and the window ends.
struct Judge {
    eval: Evaluator,
    subscriptions: Subscriptions,
    decided: Arc<Notify>,
}

impl Judge {
    fn settle(&self) {
        if self.eval.decided() || self.subscriptions.refused() {
            self.decided.notify_one();
        }
    }
}

impl Tap for Judge {
    fn observe(&mut self, o: &Observed) -> Option<Item> {
        self.eval.apply_observed(o, Instant::now());
        self.subscriptions.apply(&o.item);
        self.settle();
        None
    }

    fn tick(&mut self, now: Instant) {
        self.eval.tick(now);
        self.settle();
    }
}

/// Nothing to show but a refusal, which ends the window: the engine does not come back.
struct Refusal;

impl Front for Refusal {
    fn take(&mut self, o: Observed) -> Option<End> {
        let Item::State(c) = &o.item else {
            return None;
        };
        match (&c.current, &c.reason) {
            (ConnectionState::Disconnected, Some(Reason::Requested)) => None,
            (ConnectionState::Disconnected | ConnectionState::Failed, _) => {
                if let Some(reason) = &c.reason {
                    say!(
                        "connection {}: {}",
                        c.current,
                        protocol::safe_text::terminal_safe(&reason.to_string())
                    );
                }
                Some(End::Done)
            }
            _ => None,
        }
    }

    fn ready(&self) -> bool {
        true
    }

    async fn wait(&mut self) -> Option<End> {
        std::future::pending().await
    }

    fn idle(&mut self) -> Option<End> {
        None
    }

    fn sources_ended(&mut self) -> End {
        End::Done
    }
}
