//! `check`'s plan: the connection, the channels (those given and those the rules name), the
//! expectations (flags, then the bindings file's, keyed by its ticker bindings; `connected`
//! added when none is given: every check judges the connection), the window and the format.

use std::collections::BTreeSet;
use std::time::Duration;

use crate::cli::expect::{CheckArgs, CheckFormat, rules};
use client::ClientConfig;
use observe::expect::{Expectation, Kind, Settings};

pub struct CheckPlan {
    pub client: ClientConfig,
    pub channels: Vec<String>,
    pub rules: Vec<Expectation>,
    pub settings: Settings,
    /// `--for`.
    pub window: Duration,
    pub format: CheckFormat,
}

impl CheckPlan {
    pub fn from_args(args: CheckArgs) -> anyhow::Result<CheckPlan> {
        let (bindings, file) = super::read_bindings(Vec::new(), args.bindings_file.as_deref())?;
        let flags = args.expect.into_iter().chain(args.warn);
        let mut rules = rules(flags, file.as_deref(), &bindings, args.ts_field.as_ref())?;
        // An unreachable or refusing server is CRITICAL whatever else is asked.
        if !rules
            .iter()
            .any(|r| matches!(r.kind, Kind::Connected { .. }))
        {
            rules.push(Expectation::parse("connected").map_err(anyhow::Error::msg)?);
        }
        let channels = channels(&args.channels, &rules)?;
        let client = args.connection.merged()?.client_config()?;
        Ok(CheckPlan {
            client,
            channels,
            rules,
            settings: Settings {
                ts_field: args.ts_field,
                latency_window: args.window,
            },
            window: args.window,
            format: args.format,
        })
    }
}

/// The channels given, and those the rules name.
fn channels(given: &[String], rules: &[Expectation]) -> anyhow::Result<Vec<String>> {
    let mut all: BTreeSet<String> = given.iter().cloned().collect();
    for r in rules {
        match &r.kind {
            Kind::Cadence { channel, .. } | Kind::Value { channel, .. } => match channel {
                Some(c) => {
                    all.insert(c.clone());
                }
                None if given.is_empty() => anyhow::bail!(
                    "--expect {:?} names no channel: give CHANNEL/… or the channels to subscribe to",
                    r.text
                ),
                None => {}
            },
            Kind::Latency { .. } | Kind::Connected { .. } => {}
        }
    }
    Ok(all.into_iter().collect())
}
