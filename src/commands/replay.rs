//! `tickertape replay FILE`: a recording fed back into the dashboard or into `--json`, in
//! real time, faster (`--speed`), as fast as possible (`--max`), or from a point (`--from`).
//! A damaged file replays up to the damage, and the run ends saying where it is.
//! The wait for the next event ends at once when the front end does (q, Ctrl-C, SIGTERM).

use std::io::BufRead;
use std::process::ExitCode;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant, SystemTime};

use anyhow::Context;

use crate::cli::duration::ReplayFrom;
use crate::cli::{ConnectionArgs, ReplayArgs, WatchArgs};
use crate::client::Item;
use crate::recording::{Damage, parse_line};

pub async fn run(args: ReplayArgs) -> anyhow::Result<ExitCode> {
    let file = std::fs::File::open(&args.file)
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let speed = if args.max { f64::INFINITY } else { args.speed };
    anyhow::ensure!(speed > 0.0, "--speed must be above 0");
    let from = args.from;
    let (tx, rx) = crate::client::feed(
        crate::client::DEFAULT_QUEUE_ITEMS,
        crate::client::DEFAULT_QUEUE_BYTES,
    );
    // Dropped when the front end ends: wakes the feed from its wait for the next event.
    let (ended, cancel) = std::sync::mpsc::channel::<()>();
    let producer = tokio::task::spawn_blocking(move || {
        feed(std::io::BufReader::new(file), speed, from, &tx, &cancel)
    });
    let watch = WatchArgs {
        channels: Vec::new(),
        json: args.json,
        json_status: false,
        all: false,
        prefix: None,
        discover_interval: std::time::Duration::from_secs(2),
        count: None,
        timeout: None,
        record: None,
        fail_fast: false,
        summary: false,
        bindings: args.bindings,
        bindings_file: args.bindings_file,
        fps: 30,
        log_capacity: 10_000,
        log_bytes: crate::cli::DEFAULT_LOG_BYTES,
        history: 300,
        max_rows: 1_000,
        ascii: args.ascii,
        mouse: false,
        stats: None,
        banner: None,
        max_buffer: crate::client::DEFAULT_QUEUE_BYTES,
        max_message: crate::client::DEFAULT_MAX_MESSAGE,
        ts_field: args.ts_field,
        expect: Default::default(),
        connection: ConnectionArgs::default(),
    };
    let code = super::watch::consume(watch, None, rx, None).await;
    drop(ended);
    let code = code?;
    match producer.await.context("the replay stopped")?? {
        Some(damage) => {
            eprintln!(
                "tickertape: {} is damaged at {damage}; replayed up to there",
                crate::safe_text::terminal_safe(&args.file.display().to_string())
            );
            Ok(ExitCode::from(super::watch::EXIT_FAILURE))
        }
        None => Ok(code),
    }
}

/// Reads the recording and sends its items at their pace, until `cancel` is dropped.
/// Returns the damage, if any.
fn feed(
    reader: impl BufRead,
    speed: f64,
    from: Option<ReplayFrom>,
    tx: &crate::client::FeedTx,
    cancel: &std::sync::mpsc::Receiver<()>,
) -> anyhow::Result<Option<Damage>> {
    let mut start: Option<(SystemTime, Instant)> = None;
    let mut from_time: Option<SystemTime> = None;
    for (n, line) in reader.lines().enumerate() {
        let damage = |reason: String| Damage {
            line: n + 1,
            reason,
        };
        let line = match line {
            Ok(l) => l,
            Err(e) => return Ok(Some(damage(format!("cannot read: {e}")))),
        };
        if line.trim().is_empty() {
            continue;
        }
        let (time, item) = match parse_line(&line) {
            Ok(Some(x)) => x,
            Ok(None) => continue,
            Err(reason) => {
                let d = damage(reason);
                let _ = tx.blocking_send(Item::Error(format!("the recording is damaged at {d}")));
                return Ok(Some(d));
            }
        };
        let first = *start.get_or_insert((time, Instant::now()));
        if from_time.is_none()
            && let Some(f) = from
        {
            from_time = Some(match f {
                // Past the end of time: nothing is replayed, and nothing overflows.
                ReplayFrom::Offset(offset) => first
                    .0
                    .checked_add(offset)
                    .unwrap_or(first.0 + Duration::from_secs(u32::MAX.into())),
                ReplayFrom::Time(t) => t,
            });
        }
        let is_event = matches!(item, Item::Event(_));
        if is_event && from_time.is_some_and(|f| time < f) {
            continue; // before the starting point: states still apply, events are skipped
        }
        if speed.is_finite() && is_event {
            let base = from_time.map_or(first.0, |f| f.max(first.0));
            let offset = time.duration_since(base).unwrap_or(Duration::ZERO);
            let Some(due) = Duration::try_from_secs_f64(offset.as_secs_f64() / speed)
                .ok()
                .and_then(|d| first.1.checked_add(d))
            else {
                let d = damage("its time is out of range".into());
                let _ = tx.blocking_send(Item::Error(format!("the recording is damaged at {d}")));
                return Ok(Some(d));
            };
            if let Some(wait) = due.checked_duration_since(Instant::now())
                && !matches!(cancel.recv_timeout(wait), Err(RecvTimeoutError::Timeout))
            {
                return Ok(None); // the front end ended while this event was not yet due
            }
        }
        if tx.blocking_send(item).is_err() {
            return Ok(None); // the front end ended (q, closed stdout)
        }
    }
    Ok(None)
}
