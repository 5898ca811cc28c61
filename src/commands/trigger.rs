//! `tickertape trigger`: one event, or a batch file, through the signed REST API, as the
//! plan read and sealed them.

use std::process::ExitCode;

use crate::cli::plan::{Send, TriggerPlan};
use client::publish::ApiError;
use client::publish::delivery::{Tally, hints};
use protocol::limits::MAX_BATCH_EVENTS;
use protocol::rest::{SUBSCRIPTION_COUNT, batch_counts, trigger_counts, with_subscription_count};
use protocol::safe_text::terminal_safe;

/// The exit status with `--require-subscribers` when a channel had no subscribers, or the
/// server did not say how many it had.
pub const EXIT_NO_SUBSCRIBERS: u8 = 4;

fn api(e: ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}", terminal_safe(&with_suggestion(&e)))
}

/// The error, and for one that never reached the server, the doctor command to run.
pub(crate) fn with_suggestion(e: &ApiError) -> String {
    match e {
        ApiError::Http(_) => format!("{e}; {}", super::doctor::suggestion()),
        _ => e.to_string(),
    }
}

/// A batch request refused after `sent` events went out in the requests before it: what the
/// server said, with where it stands in the file, so that nothing is lost silently.
fn partly_sent(e: ApiError, sent: usize, count: usize, lines: &[usize]) -> anyhow::Error {
    let line = |i: usize| lines.get(i).copied().unwrap_or(0);
    let (first, last) = (line(sent), line(sent + count - 1));
    let before = match sent {
        0 => "nothing was sent".to_owned(),
        n => format!(
            "the {n} event(s) before it (to line {}) were sent; those from line {first} on were not",
            line(n - 1)
        ),
    };
    anyhow::anyhow!(
        "{} (the request of lines {first}-{last}); {before}",
        terminal_safe(&with_suggestion(&e))
    )
}

pub async fn run(plan: TriggerPlan) -> anyhow::Result<ExitCode> {
    let mut tally = Tally::default();
    match &plan.send {
        Send::Batch { events, lines } => {
            for (n, chunk) in events.chunks(MAX_BATCH_EVENTS).enumerate() {
                let answer = plan
                    .rest
                    .batch_with_info(chunk, Some(SUBSCRIPTION_COUNT))
                    .await
                    .map_err(|e| partly_sent(e, n * MAX_BATCH_EVENTS, chunk.len(), lines))?;
                for (ev, count) in chunk.iter().zip(batch_counts(&answer, chunk.len())) {
                    tally.record(&ev.channel, count);
                }
            }
            if !plan.quiet {
                say!(
                    "sent {} event(s) in {} request(s)",
                    events.len(),
                    events.len().div_ceil(MAX_BATCH_EVENTS)
                );
            }
        }
        Send::One {
            channels,
            event,
            data,
            socket_id,
            info,
        } => {
            let answer = plan
                .rest
                .trigger(
                    channels,
                    event,
                    data,
                    socket_id.as_deref(),
                    Some(&with_subscription_count(info.as_deref())),
                )
                .await
                .map_err(api)?;
            if info.is_some() {
                let mut out = Vec::new();
                observe::output::ndjson::write_line(&mut out, &answer)?;
                super::print(out).await?;
            }
            for (channel, count) in channels.iter().zip(trigger_counts(&answer, channels)) {
                tally.record(channel, count);
            }
        }
    }
    Ok(report(&plan, &tally).await)
}

/// Says on stderr what the events reached (unless `--quiet`), with suggestions for channels
/// nobody listens to; the exit status `--require-subscribers` asks for.
async fn report(plan: &TriggerPlan, tally: &Tally) -> ExitCode {
    let unreached = tally.unreached();
    if !plan.quiet {
        for line in tally.lines() {
            say!("{line}");
        }
        for line in hints(&plan.rest, &unreached).await {
            say!("  {line}");
        }
    }
    if plan.require_subscribers && (!unreached.is_empty() || tally.uncounted()) {
        return ExitCode::from(EXIT_NO_SUBSCRIBERS);
    }
    ExitCode::SUCCESS
}
