//! `tickertape replay FILE`: a recording fed back into the dashboard or into `--json`, in
//! real time, faster (`--speed`), as fast as possible (`--max`), or from a point (`--from`).
//! A damaged file replays up to the damage, and the run ends saying where it is.
//! The wait for the next event ends at once when the front end does (q, Ctrl-C, SIGTERM).

use std::process::ExitCode;

use anyhow::Context;

use crate::cli::plan::ReplayPlan;
use bounded::Limits;
use observe::pipeline::Feeds;
use observe::replay::{feed, labels_of};

pub async fn run(plan: ReplayPlan) -> anyhow::Result<ExitCode> {
    let file = std::fs::File::open(&plan.file)
        .with_context(|| format!("cannot open {}", plan.file.display()))?;
    let (speed, from) = (plan.speed, plan.from);
    // A recording of several connections: their labels, in the order they first appear.
    let labels = labels_of(&plan.file)?;
    let tags = labels.clone();
    let mut feeds = Feeds::new(plan.front.ts_field.clone());
    let limits = Limits::new(client::DEFAULT_QUEUE_ITEMS, plan.front.queue_bytes);
    let tx = feeds.feed(limits);
    let taps = super::watch::Taps::new(&plan.front, &labels, None, &feeds).await?;
    // Dropped when the front end ends: wakes the feed from its wait for the next event.
    let (ended, cancel) = std::sync::mpsc::channel::<()>();
    let producer = tokio::task::spawn_blocking(move || {
        feed(
            std::io::BufReader::new(file),
            speed,
            from,
            (&tx, &tags),
            &cancel,
        )
    });
    let code =
        super::watch::consume(plan.front, feeds, taps, (Vec::new(), Vec::new()), labels).await;
    drop(ended);
    let code = code?;
    match producer.await.context("the replay stopped")? {
        Some(damage) => {
            say!(
                "{} is damaged at {damage}; replayed up to there",
                protocol::safe_text::terminal_safe(&plan.file.display().to_string())
            );
            Ok(ExitCode::from(super::watch::EXIT_FAILURE))
        }
        None => Ok(code),
    }
}
