//! `tickertape trigger`: one event, or a batch file, through the signed REST API.

use std::io::{BufRead, Read};
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::cli::ConnectionArgs;
use crate::cli::publish::TriggerArgs;
use client::publish::delivery::{Tally, hints};
use client::publish::seal::{self, check_channels, seal};
use client::publish::{ApiError, BatchEvent, RestClient};
use protocol::crypto::KEY_LEN;
use protocol::limits::MAX_BATCH_EVENTS;
use protocol::rest::{SUBSCRIPTION_COUNT, batch_counts, trigger_counts, with_subscription_count};
use protocol::safe_text::terminal_safe;

/// The exit status with `--require-subscribers` when a channel had no subscribers, or the
/// server did not say how many it had.
pub const EXIT_NO_SUBSCRIBERS: u8 = 4;

fn api(e: ApiError) -> anyhow::Error {
    anyhow::anyhow!("{}", terminal_safe(&e.to_string()))
}

pub async fn run(args: TriggerArgs) -> anyhow::Result<ExitCode> {
    let conn = args.connection.clone().merged()?;
    let client = conn.rest_client()?;
    let mut tally = Tally::default();
    if let Some(path) = &args.batch {
        let mut events = read_batch(path)?;
        // Every event is sealed (or refused) before the first request goes out.
        let master = master_key(&conn, events.iter().map(|e| e.channel.as_str()))?;
        for ev in &mut events {
            ev.data = seal(&ev.channel, &ev.data, master.as_ref())?;
        }
        for chunk in events.chunks(MAX_BATCH_EVENTS) {
            let answer = client
                .batch_with_info(chunk, Some(SUBSCRIPTION_COUNT))
                .await
                .map_err(api)?;
            for (ev, count) in chunk.iter().zip(batch_counts(&answer, chunk.len())) {
                tally.record(&ev.channel, count);
            }
        }
        if !args.quiet {
            eprintln!(
                "tickertape: sent {} event(s) in {} request(s)",
                events.len(),
                events.len().div_ceil(MAX_BATCH_EVENTS)
            );
        }
        return Ok(report(&client, &tally, &args).await);
    }
    let (Some(channels), Some(event)) = (&args.channels, &args.event) else {
        bail!("trigger needs CHANNEL and EVENT (or --batch FILE); see tickertape trigger --help");
    };
    let data = match args.data.as_deref() {
        None => "{}".to_owned(),
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the data from stdin")?;
            text.trim_end_matches(['\n', '\r']).to_owned()
        }
        Some(text) => text.to_owned(),
    };
    let channels: Vec<String> = channels
        .split(',')
        .map(str::trim)
        .filter(|c| !c.is_empty())
        .map(str::to_owned)
        .collect();
    check_channels(&channels)?;
    let data = match channels.as_slice() {
        [one] => seal(
            one,
            &data,
            master_key(&conn, std::iter::once(one.as_str()))?.as_ref(),
        )?,
        _ => data,
    };
    let answer = client
        .trigger(
            &channels,
            event,
            &data,
            args.socket_id.as_deref(),
            Some(&with_subscription_count(args.info.as_deref())),
        )
        .await
        .map_err(api)?;
    if args.info.is_some() {
        observe::output::ndjson::write_line(&mut std::io::stdout().lock(), &answer)?;
    }
    for (channel, count) in channels.iter().zip(trigger_counts(&answer, &channels)) {
        tally.record(channel, count);
    }
    Ok(report(&client, &tally, &args).await)
}

/// The master key, when one of `channels` is encrypted.
pub fn master_key<'a>(
    conn: &ConnectionArgs,
    channels: impl Iterator<Item = &'a str>,
) -> anyhow::Result<Option<[u8; KEY_LEN]>> {
    seal::master_key(conn.encryption_master_key.as_deref(), channels)
        .context("--encryption-master-key")
}

/// Says on stderr what the events reached (unless `--quiet`), with suggestions for channels
/// nobody listens to; the exit status `--require-subscribers` asks for.
async fn report(client: &RestClient, tally: &Tally, args: &TriggerArgs) -> ExitCode {
    let unreached = tally.unreached();
    if !args.quiet {
        for line in tally.lines() {
            eprintln!("tickertape: {line}");
        }
        for line in hints(client, &unreached).await {
            eprintln!("tickertape:   {line}");
        }
    }
    if args.require_subscribers && (!unreached.is_empty() || tally.uncounted()) {
        return ExitCode::from(EXIT_NO_SUBSCRIBERS);
    }
    ExitCode::SUCCESS
}

/// NDJSON lines of `{"channel","name","data"}`; `data` may be any JSON (objects are encoded).
fn read_batch(path: &std::path::Path) -> anyhow::Result<Vec<BatchEvent>> {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        ))
    };
    let mut events = Vec::new();
    for (n, line) in reader.lines().enumerate() {
        let line =
            line.with_context(|| format!("{}: cannot read line {}", path.display(), n + 1))?;
        if line.trim().is_empty() {
            continue;
        }
        let mut v: serde_json::Value = serde_json::from_str(&line)
            .with_context(|| format!("{} line {}: not JSON", path.display(), n + 1))?;
        if let Some(d) = v.get_mut("data")
            && !d.is_string()
        {
            *d = serde_json::Value::String(d.to_string());
        }
        let ev: BatchEvent = serde_json::from_value(v).with_context(|| {
            format!(
                "{} line {}: needs channel, name and data",
                path.display(),
                n + 1
            )
        })?;
        events.push(ev);
    }
    Ok(events)
}
