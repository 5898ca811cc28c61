//! `tickertape tap`: the Redis or NATS source (`observe::backplane::{redis, nats}`) feeding the tap's model
//! (`observe::backplane::Tap`), shown as NDJSON through the output thread or on the screen.

use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};

use anyhow::Context;

use crate::cli::tap::TapPlan;
use crate::signals::Signals;
use bounded::{Limits, Overflow};
use observe::backplane::{Lost, Seen, Tap, ndjson};
use observe::output::writer::Output;

/// Raw messages waiting for the front end: past this the newest are dropped and counted.
pub const QUEUE: Limits = Limits::new(8192, 16 << 20);

pub async fn run(plan: TapPlan) -> anyhow::Result<ExitCode> {
    let (rx, lost, task) = plan.source.spawn(QUEUE);
    let tap = Tap::new(plan.server, plan.filter.clone());
    let ran = if plan.front == crate::cli::plan::FrontEnd::Screen {
        super::tap_screen::show(&plan, rx, &lost).await
    } else {
        json(&plan, tap, rx, &lost).await
    };
    task.abort();
    let up = ran?;
    let (dropped, oversize) = (
        lost.dropped.load(Ordering::Relaxed) + lost.slow.load(Ordering::Relaxed),
        lost.oversize.load(Ordering::Relaxed),
    );
    if dropped > 0 || oversize > 0 {
        say!(
            "{dropped} backplane messages dropped (the output fell behind), {oversize} over --max-message"
        );
    }
    if !up {
        say!(
            "{}: never reached (the cluster was not observed)",
            plan.source.shown()
        );
        return Ok(ExitCode::from(super::watch::EXIT_FAILURE));
    }
    Ok(ExitCode::SUCCESS)
}

/// NDJSON on stdout until `--count`, `--timeout`, a signal or a closed stdout; whether the
/// backplane was ever reached.
async fn json(
    plan: &TapPlan,
    mut tap: Tap,
    mut rx: bounded::Receiver<observe::backplane::TapItem>,
    lost: &Lost,
) -> anyhow::Result<bool> {
    let mut out = Output::spawn_default(Overflow::DropNewest).context("cannot write to stdout")?;
    let lines = out.lines().context("the output thread stopped")?;
    let mut metrics = match plan.metrics {
        Some(addr) => {
            Some(observe::backplane::metrics::Metrics::serve(addr, plan.source.counted()).await?)
        }
        None => None,
    };
    if let Some(addr) = metrics.as_ref().and_then(|m| m.addr()) {
        say!("metrics on http://{addr}/metrics");
    }
    let mut signals = Signals::install();
    let deadline = plan.timeout.map(|t| tokio::time::Instant::now() + t);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let (mut shown, mut up, mut reported) = (0u64, false, (0u64, 0u64));
    'run: loop {
        let seen = tokio::select! {
            item = rx.recv() => match item {
                Some(item) => tap.take(item, Instant::now()),
                None => break,
            },
            _ = tick.tick() => {
                let now = (
                    lost.dropped.load(Ordering::Relaxed) + lost.slow.load(Ordering::Relaxed),
                    lost.oversize.load(Ordering::Relaxed),
                );
                // At most once a second, with the count since the last report.
                if now != reported {
                    say!(
                        "{} backplane messages dropped, {} over --max-message (in all: {}, {})",
                        now.0 - reported.0,
                        now.1 - reported.1,
                        now.0,
                        now.1
                    );
                    reported = now;
                }
                if let Some(m) = metrics.as_mut() {
                    m.tick(&tap.cluster, Instant::now(), now);
                }
                tap.tick(Instant::now())
            }
            _ = signals.next() => break,
            _ = sleep_until(deadline) => break,
            _ = lines.closed() => break,
        };
        for s in seen {
            if let Some(m) = &metrics {
                m.seen(&s);
            }
            let line = match s {
                Seen::Message {
                    message,
                    channel,
                    bytes,
                    wall,
                    round_trip,
                } => {
                    shown += 1;
                    ndjson::message_line(&message, &channel, bytes, wall, round_trip)
                }
                Seen::Notice(n, wall) => ndjson::notice_line(&n, wall),
                Seen::State { up: now_up, detail } => {
                    up |= now_up;
                    say!(
                        "{}",
                        if now_up {
                            format!("up: {detail}")
                        } else {
                            format!("down: {detail}")
                        }
                    );
                    continue;
                }
                Seen::NumSub(_) => continue,
            };
            let _ = writeln!(out.buffer(), "{line}");
            if plan.count.is_some_and(|c| shown >= c) {
                out.hand_over();
                break 'run;
            }
        }
        out.hand_over();
    }
    let finished = tokio::select! {
        r = out.finish() => r,
        _ = signals.next() => Ok(()),
    };
    if let Err(e) = finished
        && e.kind() != std::io::ErrorKind::BrokenPipe
    {
        return Err(e.into());
    }
    Ok(up)
}

async fn sleep_until(deadline: Option<tokio::time::Instant>) {
    match deadline {
        Some(d) => tokio::time::sleep_until(d).await,
        None => std::future::pending().await,
    }
}
