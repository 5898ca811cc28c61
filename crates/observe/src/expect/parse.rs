//! `--expect RULE`: the four kinds of expectation, parsed with errors that say what is wrong
//! and show the syntax. Pure.
//!
//! - cadence: `[CHANNEL/]EVENT<DURATION`, at least one such event every DURATION
//!   (`stock_ticker/update_event<5s`; `stock_ticker/*<5s` is any event on the channel,
//!   `update_event<5s` that event on any channel);
//! - latency: `latency<DURATION`, the p99 of publish-to-receive latency over a window
//!   (needs `--ts-field`);
//! - value: `[CHANNEL/]EVENT:PATH OP LITERAL`, a rule every matching event's value must keep
//!   (`update_event:price>0`); OP is `<`, `<=`, `>`, `>=`, `=` or `!=`, LITERAL a number,
//!   `true`, `false`, `null` or text (only `=` and `!=` compare text);
//! - connection: `connected` or `connected<GRACE`, the connection down for no longer than
//!   GRACE (5 s when not given).
//!
//! An event literally named `latency` or `connected` is written `*/latency<5s`.

use std::time::Duration;

use crate::field_path::FieldPath;

/// Longest rule accepted, in bytes.
pub const MAX_RULE: usize = 1000;

/// How long the connection may be down by default before `connected` breaks.
pub const DEFAULT_GRACE: Duration = Duration::from_secs(5);

/// What a broken expectation means for `check`: `--warn` rules warn, `--expect` rules are
/// critical.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Level {
    Warning,
    Critical,
}

impl Level {
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Warning => "warning",
            Level::Critical => "critical",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    Lt,
    Le,
    Gt,
    Ge,
    Eq,
    Ne,
}

impl Op {
    pub fn as_str(self) -> &'static str {
        match self {
            Op::Lt => "<",
            Op::Le => "<=",
            Op::Gt => ">",
            Op::Ge => ">=",
            Op::Eq => "=",
            Op::Ne => "!=",
        }
    }
}

/// What a value is compared with.
#[derive(Debug, Clone, PartialEq)]
pub enum Literal {
    Number(f64),
    Bool(bool),
    Null,
    Text(String),
}

#[derive(Debug, Clone, PartialEq)]
pub enum Kind {
    Cadence {
        /// `None` matches every channel (or event).
        channel: Option<String>,
        event: Option<String>,
        every: Duration,
    },
    Latency {
        p99_under: Duration,
    },
    Value {
        channel: Option<String>,
        event: Option<String>,
        path: FieldPath,
        op: Op,
        literal: Literal,
        /// The ticker key, when a binding gives one: the rule is then kept per key (per row).
        key: Option<FieldPath>,
    },
    Connected {
        grace: Duration,
    },
}

/// One expectation: the rule as written, what it checks and how much a break matters.
#[derive(Debug, Clone, PartialEq)]
pub struct Expectation {
    pub text: String,
    pub kind: Kind,
    pub level: Level,
}

impl Expectation {
    /// Parses a `--expect` rule (critical).
    pub fn parse(text: &str) -> Result<Expectation, String> {
        parse(text, Level::Critical)
    }

    /// Parses a `--warn` rule (a warning).
    pub fn parse_warning(text: &str) -> Result<Expectation, String> {
        parse(text, Level::Warning)
    }

    /// The same value rule kept per ticker key.
    pub fn keyed_by(mut self, path: FieldPath) -> Expectation {
        if let Kind::Value { key, .. } = &mut self.kind {
            *key = Some(path);
        }
        self
    }
}

const SYNTAX: &str = "expected [CHANNEL/]EVENT<DURATION, latency<DURATION, \
    [CHANNEL/]EVENT:PATH>VALUE or connected[<GRACE], e.g. stock_ticker/update_event<5s";

pub fn parse(text: &str, level: Level) -> Result<Expectation, String> {
    let shown: String = text.chars().take(80).collect();
    let fail = |why: &str| format!("--expect {shown:?}: {why}; {SYNTAX}");
    if text.len() > MAX_RULE {
        return Err(fail(&format!("longer than {MAX_RULE} bytes")));
    }
    let rule = text.trim();
    if rule.is_empty() {
        return Err(fail("the rule is empty"));
    }
    let kind = if rule == "connected" {
        Kind::Connected {
            grace: DEFAULT_GRACE,
        }
    } else {
        let at = rule
            .find(['<', '>', '=', '!'])
            .ok_or_else(|| fail("no comparison (<, >, =)"))?;
        let (left, rest) = (rule[..at].trim(), &rule[at..]);
        let (op, right) = operator(rest).ok_or_else(|| fail("unknown comparison"))?;
        let right = right.trim();
        if let Some((target, path)) = left.rsplit_once(':') {
            let (channel, event) = target_of(target).map_err(|e| fail(&e))?;
            let path = FieldPath::parse(path).map_err(|e| fail(&e))?;
            let literal = literal(right).map_err(|e| fail(&e))?;
            if matches!(literal, Literal::Text(_) | Literal::Bool(_) | Literal::Null)
                && !matches!(op, Op::Eq | Op::Ne)
            {
                return Err(fail(&format!(
                    "{} compares numbers only; use = or != for {right:?}",
                    op.as_str()
                )));
            }
            Kind::Value {
                channel,
                event,
                path,
                op,
                literal,
                key: None,
            }
        } else {
            if op != Op::Lt {
                return Err(fail(&format!(
                    "{left:?} takes `<DURATION` (at least one every DURATION), not {}",
                    op.as_str()
                )));
            }
            let d = duration(right).map_err(|e| fail(&e))?;
            match left {
                "connected" => Kind::Connected { grace: d },
                "latency" => Kind::Latency { p99_under: d },
                target => {
                    let (channel, event) = target_of(target).map_err(|e| fail(&e))?;
                    Kind::Cadence {
                        channel,
                        event,
                        every: d,
                    }
                }
            }
        }
    };
    Ok(Expectation {
        text: rule.to_owned(),
        kind,
        level,
    })
}

fn operator(text: &str) -> Option<(Op, &str)> {
    [
        ("<=", Op::Le),
        (">=", Op::Ge),
        ("!=", Op::Ne),
        ("==", Op::Eq),
        ("<", Op::Lt),
        (">", Op::Gt),
        ("=", Op::Eq),
    ]
    .into_iter()
    .find_map(|(s, op)| text.strip_prefix(s).map(|rest| (op, rest)))
}

/// `CHANNEL/EVENT`, `CHANNEL/*`, `*/EVENT` or `EVENT` (`*` for any). Channel names cannot
/// contain `/`; event names may.
type Target = (Option<String>, Option<String>);

fn target_of(text: &str) -> Result<Target, String> {
    let text = text.trim();
    let (channel, event) = match text.split_once('/') {
        Some((c, e)) => (Some(c.trim()), e.trim()),
        None => (None, text),
    };
    if event.is_empty() || channel.is_some_and(str::is_empty) {
        return Err("the event (or channel) is empty".into());
    }
    let wild = |s: &str| (s != "*").then(|| s.to_owned());
    Ok((channel.and_then(wild), wild(event)))
}

fn literal(text: &str) -> Result<Literal, String> {
    if text.is_empty() {
        return Err("nothing to compare with".into());
    }
    Ok(match text {
        "true" => Literal::Bool(true),
        "false" => Literal::Bool(false),
        "null" => Literal::Null,
        _ => match text.parse::<f64>() {
            Ok(n) if n.is_finite() => Literal::Number(n),
            Ok(_) => return Err(format!("{text:?} is not a finite number")),
            Err(_) => {
                let unquoted = text
                    .strip_prefix('"')
                    .and_then(|t| t.strip_suffix('"'))
                    .unwrap_or(text);
                Literal::Text(unquoted.to_owned())
            }
        },
    })
}

/// A duration: `5s`, `250ms`, `2m`, or a number of seconds; from 1 ms to a day.
fn duration(text: &str) -> Result<Duration, String> {
    let d = match text.parse::<f64>() {
        Ok(secs) if (0.0..=86_400.0).contains(&secs) => Duration::from_secs_f64(secs),
        Ok(_) => return Err(format!("{text:?} is not a duration from 1ms to 1 day")),
        Err(_) => humantime::parse_duration(text)
            .map_err(|e| format!("{text:?} is not a duration ({e}); try 5s or 250ms"))?,
    };
    if d < Duration::from_millis(1) || d > Duration::from_secs(86_400) {
        return Err(format!("{text:?} is not a duration from 1ms to 1 day"));
    }
    Ok(d)
}

/// Expectations in a bindings file: `[[expect]]` tables with `rule` and, optionally,
/// `level = "warning"` (critical by default). Other tables (`[[bind]]`) are left alone.
pub fn parse_file(text: &str) -> Result<Vec<Expectation>, String> {
    #[derive(serde::Deserialize)]
    struct File {
        #[serde(default)]
        expect: Vec<Rule>,
    }
    #[derive(serde::Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Rule {
        rule: String,
        level: Option<String>,
    }
    let file: File = toml::from_str(text).map_err(|e| format!("bindings file: {e}"))?;
    file.expect
        .into_iter()
        .map(|r| {
            let level = match r.level.as_deref() {
                None | Some("critical") => Level::Critical,
                Some("warning") => Level::Warning,
                Some(other) => {
                    return Err(format!(
                        "bindings file: level {other:?} for {:?}: use warning or critical",
                        r.rule
                    ));
                }
            };
            parse(&r.rule, level).map_err(|e| format!("bindings file: {e}"))
        })
        .collect()
}

#[cfg(test)]
#[path = "parse_tests.rs"]
mod tests;
