//! `tickertape webhooks`: receives webhooks (from Pusher through a tunnel, sockudo, soketi
//! or `serve`), answers at once, then shows each event with whether its signature is the
//! app's, and why not. The HTTP side reuses the server's accept loop (its caps on
//! connections, header deadline and idle timeout); bodies are read in [`receive`], capped in
//! bytes and in time; output goes through a bounded queue to a thread of its own, or, on a
//! terminal, to the dashboard ([`screen`]), within the output's [`budget`].

mod budget;
pub(crate) mod heard;
mod receive;
mod screen;
mod sink;

use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use axum::Router;
use tokio::net::TcpListener;

use crate::cli::plan::FrontEnd;
use crate::cli::webhooks::WebhooksPlan;
use bounded::Overflow;
use budget::Budget;
use net::listen::ListenLimits;
use observe::output::writer::Output as Writer;
use observe::pipeline::Observed;
use protocol::safe_text::terminal_safe;
use receive::{Receiver, receive};
use screen::ScreenFeed;
use server::limits::{Limits, Slots};
use sink::{Shown, Sink};

/// Connections one address may hold: a quarter of the total, so that one sender never
/// takes every slot.
fn per_address(total: usize) -> usize {
    (total / 4).max(1)
}

/// How long the output may take, at the end, to write what is queued.
const DRAIN: Duration = Duration::from_secs(2);
/// Requests' outputs waiting for stdout, at most, whatever their size.
const QUEUE_ITEMS: usize = 4096;
/// Bodies turned into output at once. Parsing a body and rendering its events takes a few
/// times its size for a moment; this many at a time, whatever the number of cores or of
/// senders, keeps that within a few `--max-body`. The others wait, counted in the bodies'
/// half of `--max-queue`.
const RENDERING: usize = 2;

/// What the run waits on: the output thread and the signals that end it, or the dashboard
/// (which ends on its keys; in raw mode Ctrl-C is one).
enum Output {
    Lines(Writer, Arc<Shown>, crate::signals::Signals),
    Screen(ScreenFeed, bounded::Receiver<Observed>),
}

pub async fn run(plan: WebhooksPlan) -> anyhow::Result<ExitCode> {
    let listener = TcpListener::bind(plan.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {}: {e}", plan.listen))?;
    let addr = listener.local_addr()?;
    let url = format!("http://{addr}/");
    let (out, output) = if plan.front == FrontEnd::Screen {
        let (feed, rx) = ScreenFeed::new(plan.output_budget());
        (Sink::Screen(feed.clone()), Output::Screen(feed, rx))
    } else {
        let limits = bounded::Limits::new(QUEUE_ITEMS, plan.output_budget());
        let writer = Writer::spawn(limits, Overflow::DropNewest)?;
        let shown = Arc::new(Shown {
            lines: writer
                .lines()
                .ok_or_else(|| anyhow::anyhow!("the output thread stopped"))?,
            count: plan.count,
            queued: AtomicU64::new(0),
            dropped: AtomicU64::new(0),
            counted: tokio::sync::Notify::new(),
        });
        // SIGTERM's handler is in place before the address is printed: a test or a
        // supervisor may signal as soon as it reads it.
        let shutdown = crate::signals::Signals::install();
        (
            Sink::Lines(shown.clone()),
            Output::Lines(writer, shown, shutdown),
        )
    };
    let front = screen::front(&plan, &url);
    // The project's listener discipline: header and idle deadlines, connections capped in
    // total and per address (a quarter each, so one sender cannot take every slot), and the
    // bodies being read held to their half of --max-queue, counted from their
    // Content-Length before they are read. The output has the other half.
    let limits = ListenLimits {
        header_timeout: plan.header_timeout,
        idle_timeout: Limits::DEFAULT_IDLE_TIMEOUT,
        max_connections: plan.max_connections,
        max_per_ip: per_address(plan.max_connections),
        body_budget: Some(plan.body_budget()),
        max_body: plan.max_body,
    };
    for app in &plan.apps {
        say!(
            "checking webhooks of app {} (key {})",
            terminal_safe(&app.id),
            terminal_safe(&app.key)
        );
    }
    say!(
        "{}: up to {} connections ({} per address)",
        plan.descriptors,
        limits.max_connections,
        limits.max_per_ip
    );
    let in_flight = Slots::new(plan.max_connections);
    let budget = Budget::new(plan.output_budget());
    let receiver = Arc::new(Receiver {
        apps: plan.apps,
        json: plan.front == FrontEnd::Json,
        reject_invalid: plan.reject_invalid,
        max_body: plan.max_body,
        body_timeout: plan.body_timeout,
        in_flight: in_flight.clone(),
        out,
        budget,
        rendering: tokio::sync::Semaphore::new(RENDERING),
    });
    let router = Router::new().fallback(receive).with_state(receiver);
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let task = tokio::spawn(server::listen::serve(listener, router, limits, stopped));
    say!("receiving webhooks on {url}");
    let (dashboard, failed, dropped) = match output {
        Output::Screen(feed, rx) => (Some(screen::show(front, rx, feed).await), None, 0),
        Output::Lines(writer, shown, shutdown) => {
            let (failed, dropped) = lines(writer, &shown, plan.timeout, shutdown, &in_flight).await;
            (None, failed, dropped)
        }
    };
    stop.send_replace(true);
    task.abort();
    if let Some(code) = dashboard {
        return code;
    }
    report_dropped(dropped, 0);
    if let Some(e) = failed {
        anyhow::bail!("cannot write the output: {e}");
    }
    Ok(ExitCode::SUCCESS)
}

/// Lines on stdout until `--count`, `--timeout`, a signal or a closed stdout; what is
/// queued is written before the end. The write error that ended it (a closed stdout is a
/// normal end), and how many were not shown and not yet said.
async fn lines(
    mut writer: Writer,
    shown: &Shown,
    timeout: Option<Duration>,
    shutdown: crate::signals::Signals,
    in_flight: &Slots,
) -> (Option<std::io::Error>, u64) {
    let shutdown = shutdown.wait();
    tokio::pin!(shutdown);
    let deadline = timeout.map(|t| tokio::time::Instant::now() + t);
    let mut tick = tokio::time::interval(Duration::from_secs(1));
    let mut reported = 0;
    let dropped = || shown.dropped.load(Ordering::Relaxed);
    let failed = loop {
        tokio::select! {
            e = writer.failed() => break Some(e),
            () = shown.counted.notified() => break None,
            _ = &mut shutdown => break None,
            () = super::watch::sleep_until(deadline) => break None,
            _ = tick.tick() => reported = report_dropped(dropped(), reported),
        }
    };
    // Requests being answered finish (their connections close after them), and their
    // output joins the queue, before the queue is drained.
    let until = tokio::time::Instant::now() + DRAIN;
    while failed.is_none() && in_flight.in_use() > 0 && tokio::time::Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let failed = match failed {
        Some(e) => Some(e),
        None => tokio::time::timeout(DRAIN, writer.finish())
            .await
            .ok()
            .and_then(Result::err),
    };
    let failed = failed.filter(|e| e.kind() != std::io::ErrorKind::BrokenPipe);
    let dropped = dropped();
    (failed, if dropped > reported { dropped } else { 0 })
}

/// Says on stderr how many events were not shown, when that grew; the count said.
fn report_dropped(dropped: u64, reported: u64) -> u64 {
    if dropped > reported {
        say!(
            "{dropped} webhook events not shown in all: the output fell behind \
             (its queue was full; see --max-queue). They were answered all the same."
        );
    }
    dropped
}
