//! `tickertape trigger`: one event, or a batch file, through the signed REST API.

use std::io::{BufRead, Read};
use std::process::ExitCode;

use anyhow::{Context, bail};

use crate::cli::publish::TriggerArgs;
use crate::protocol::limits::MAX_BATCH_EVENTS;
use crate::publish::BatchEvent;
use crate::safe_text::terminal_safe;

pub async fn run(args: TriggerArgs) -> anyhow::Result<ExitCode> {
    let conn = args.connection.clone().merged()?;
    let client = conn.rest_client()?;
    if let Some(path) = &args.batch {
        let events = read_batch(path)?;
        for chunk in events.chunks(MAX_BATCH_EVENTS) {
            client
                .batch(chunk)
                .await
                .map_err(|e| anyhow::anyhow!("{}", terminal_safe(&e.to_string())))?;
        }
        eprintln!(
            "tickertape: sent {} event(s) in {} request(s)",
            events.len(),
            events.len().div_ceil(MAX_BATCH_EVENTS)
        );
        return Ok(ExitCode::SUCCESS);
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
    let answer = client
        .trigger(
            &channels,
            event,
            &data,
            args.socket_id.as_deref(),
            args.info.as_deref(),
        )
        .await
        .map_err(|e| anyhow::anyhow!("{}", terminal_safe(&e.to_string())))?;
    if args.info.is_some() {
        crate::output::ndjson::write_line(&mut std::io::stdout().lock(), &answer)?;
    }
    Ok(ExitCode::SUCCESS)
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
