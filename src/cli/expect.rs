//! `--expect` and `--warn` for `watch`, and the `check` subcommand's flags.

use std::path::PathBuf;
use std::time::Duration;

use super::ConnectionArgs;
use observe::binding::{Binding, View};
use observe::expect::{Expectation, Kind};
use observe::field_path::FieldPath;

/// What a healthy stream looks like, for `watch`.
#[derive(clap::Args, Debug, Clone, Default)]
pub struct ExpectArgs {
    /// An expectation (repeatable): CHANNEL/EVENT<5s (an event at least every 5 s; EVENT or
    /// CHANNEL may be *), latency<250ms (p99 over 30 s, needs --ts-field),
    /// EVENT:PATH>0 (every value keeps the rule; < <= > >= = !=), connected[<GRACE] (down
    /// no longer than GRACE, 5 s by default; with several --node or --profile, each
    /// connection on its own, its alerts named: `eu: down for 12.0s`). A break shows in the
    /// dashboard's alert strip, and with --json as a line on stderr. The bindings file may
    /// hold [[expect]] tables
    #[arg(long = "expect", value_name = "RULE", value_parser = Expectation::parse, help_heading = "Expectations")]
    pub expect: Vec<Expectation>,
    /// As --expect, but only a warning (for `check`, WARNING rather than CRITICAL)
    #[arg(long = "warn", value_name = "RULE", value_parser = Expectation::parse_warning, help_heading = "Expectations")]
    pub warn: Vec<Expectation>,
    /// Ring the terminal bell when an expectation breaks
    #[arg(long, help_heading = "Expectations")]
    pub bell: bool,
}

/// The formats of `check`.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum CheckFormat {
    /// One line: `TICKERTAPE OK - … | perfdata`
    #[default]
    Nagios,
    /// One JSON object
    Json,
    /// The Prometheus text format
    Prometheus,
}

pub const CHECK_HELP: &str = "\
Exit status (Nagios plugin codes):
  0  OK        checked, and healthy: connected, every channel subscribed,
               every expectation held for the whole window
  1  WARNING   a --warn expectation broke
  2  CRITICAL  the server refused the connection or was never reached
               (unreachable past the grace of `connected`, 5 s, or at the
               end), a channel's subscription was refused or never answered,
               the connection kept dropping (never up for the grace), or an
               --expect expectation broke (connected: down past its grace,
               or not connected at the end)
  3  UNKNOWN   the check could not judge: no latency sample, no event with
               the value's field; or a usage error
  The worst wins: CRITICAL, then WARNING, then UNKNOWN.

Every check judges `connected` (added when no rule names it; give \
`connected<GRACE` or --warn connected to change its grace or level; a server never \
reached or refusing is CRITICAL whatever its level). Channels named in the rules are \
subscribed, and each must be taken. The window ends as soon as the verdict can only be \
CRITICAL: a refusal at once, an unreachable server after the grace, a broken --expect \
once connected.

Examples:
  tickertape check --expect 'stock_ticker/update_event<5s' --for 30s \\
    --key app-key
  tickertape check --expect connected --expect 'latency<250ms' \\
    --ts-field ts --for 1m
  tickertape check --warn 'update_event:price>0' stock_ticker \\
    --format prometheus";

/// `tickertape check`: connect, watch for a while, and judge.
#[derive(clap::Args, Debug)]
pub struct CheckArgs {
    /// Channels to subscribe to, beyond those the rules name
    #[arg(value_name = "CHANNEL")]
    pub channels: Vec<String>,
    /// An expectation (repeatable): CHANNEL/EVENT<5s, latency<250ms, EVENT:PATH>0 or
    /// connected[<GRACE]; a break is CRITICAL
    #[arg(long = "expect", value_name = "RULE", value_parser = Expectation::parse)]
    pub expect: Vec<Expectation>,
    /// As --expect, but a break is a WARNING
    #[arg(long = "warn", value_name = "RULE", value_parser = Expectation::parse_warning)]
    pub warn: Vec<Expectation>,
    /// How long to watch: 30s, 2m
    #[arg(long = "for", value_name = "DURATION", default_value = super::defaults::CHECK_WINDOW, value_parser = super::duration::parse_interval)]
    pub window: Duration,
    /// What to print
    #[arg(long, value_enum, default_value_t)]
    pub format: CheckFormat,
    /// The publish timestamp in each event's data, for latency<…
    #[arg(long, value_name = "PATH", value_parser = FieldPath::parse)]
    pub ts_field: Option<FieldPath>,
    /// [[expect]] tables (and [[bind]] tables: a ticker binding keys value rules per row)
    #[arg(long, visible_alias = "bindings", value_name = "FILE")]
    pub bindings_file: Option<PathBuf>,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// Every rule, in order: `--expect`, `--warn`, then the bindings file's. A value rule on an
/// event a ticker binding shows is kept per ticker key. `latency<…` needs `ts_field`.
pub fn rules(
    flags: impl IntoIterator<Item = Expectation>,
    file_text: Option<&str>,
    bindings: &[Binding],
    ts_field: Option<&FieldPath>,
) -> anyhow::Result<Vec<Expectation>> {
    let mut rules: Vec<Expectation> = flags.into_iter().collect();
    if let Some(text) = file_text {
        rules.extend(observe::expect::parse::parse_file(text).map_err(anyhow::Error::msg)?);
    }
    if ts_field.is_none()
        && let Some(r) = rules
            .iter()
            .find(|r| matches!(r.kind, Kind::Latency { .. }))
    {
        anyhow::bail!("--expect {:?} needs --ts-field", r.text);
    }
    Ok(rules.into_iter().map(|r| keyed(r, bindings)).collect())
}

/// A value rule takes the key of the first ticker binding that can show its events.
fn keyed(rule: Expectation, bindings: &[Binding]) -> Expectation {
    let Kind::Value { channel, event, .. } = &rule.kind else {
        return rule;
    };
    let fits = |mine: &Option<String>, theirs: &Option<String>| {
        theirs.is_none() || mine.is_none() || mine == theirs
    };
    let key = bindings.iter().find_map(|b| match &b.view {
        View::Ticker { key, .. } if fits(channel, &b.channel) && fits(event, &b.event) => {
            Some(key.clone())
        }
        _ => None,
    });
    match key {
        Some(key) => rule.keyed_by(key),
        None => rule,
    }
}
