//! `tickertape channels`: occupied channels as a table (or JSON), one channel's details, or a
//! presence channel's members.

use std::io::Write;
use std::process::ExitCode;

use serde_json::Value;

use crate::cli::plan::{ChannelsPlan, Query};
use protocol::safe_text::terminal_safe;

pub async fn run(plan: ChannelsPlan) -> anyhow::Result<ExitCode> {
    let client = &plan.rest;
    let fail = |e: client::publish::ApiError| {
        anyhow::anyhow!("{}", terminal_safe(&super::trigger::with_suggestion(&e)))
    };
    let answer = match &plan.query {
        Query::Users(name) => client.users(name).await.map_err(fail)?,
        Query::Channel(name) => {
            let info = if name.starts_with("presence-") {
                "user_count,subscription_count"
            } else {
                "subscription_count"
            };
            client.channel(name, Some(info)).await.map_err(fail)?
        }
        Query::List { prefix } => {
            let info = prefix
                .as_deref()
                .filter(|p| p.starts_with("presence-"))
                .map(|_| "user_count");
            client
                .channels(prefix.as_deref(), info)
                .await
                .map_err(fail)?
        }
    };
    let mut out = Vec::new();
    if plan.json {
        // The terminal-safe formatter: a server's text never reaches the terminal raw.
        observe::output::ndjson::write_line(&mut out, &answer)?;
    } else {
        table(&mut out, &answer)?;
    }
    super::print(out).await?;
    Ok(ExitCode::SUCCESS)
}

/// The answer as a table: the members, the channels, or one channel's attributes.
fn table(out: &mut Vec<u8>, answer: &Value) -> std::io::Result<()> {
    let text = |v: &Value| {
        terminal_safe(&v.as_str().map_or_else(|| v.to_string(), str::to_owned)).into_owned()
    };
    if let Some(users) = answer.get("users").and_then(Value::as_array) {
        writeln!(out, "USER ID")?;
        for u in users {
            writeln!(out, "{}", text(&u["id"]))?;
        }
    } else if let Some(channels) = answer.get("channels").and_then(Value::as_object) {
        let width = channels
            .keys()
            .map(|k| k.chars().count())
            .max()
            .unwrap_or(7)
            .max(7);
        writeln!(out, "{:<width$}  USERS", "CHANNEL")?;
        for (name, attrs) in channels {
            let users = attrs
                .get("user_count")
                .map_or("-".to_owned(), |u| u.to_string());
            writeln!(out, "{:<width$}  {users}", terminal_safe(name))?;
        }
    } else if let Some(obj) = answer.as_object() {
        for (k, v) in obj {
            writeln!(out, "{}: {}", terminal_safe(k), text(v))?;
        }
    }
    Ok(())
}
