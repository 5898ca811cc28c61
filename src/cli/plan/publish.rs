//! The publishers' and the queries' plans (`trigger`, `stocks`, `channels`): the REST API,
//! already layered, and what to send or ask, read and checked whole (a batch file read and
//! every event sealed, the data read from stdin) before anything is sent.

use std::io::{BufRead, Read};
use std::path::Path;
use std::time::Duration;

use anyhow::{Context, bail};

use super::connections::UsageError;
use crate::cli::connection::ConnectionArgs;
use crate::cli::publish::{ChannelsArgs, StocksArgs, TriggerArgs};
use client::publish::seal::{self, check_channels, seal};
use client::publish::stocks::{Model, default_companies, parse_companies};
use client::publish::{BatchEvent, RestClient};
use protocol::crypto::KEY_LEN;

/// `trigger`: through which API, and what.
pub struct TriggerPlan {
    pub rest: RestClient,
    pub send: Send,
    /// `--require-subscribers`.
    pub require_subscribers: bool,
    pub quiet: bool,
}

/// What `trigger` sends.
pub enum Send {
    /// `--batch FILE`: every event, checked and sealed where its channel is encrypted, and
    /// the file's line each came from.
    Batch {
        events: Vec<BatchEvent>,
        lines: Vec<usize>,
    },
    /// One event on one or more channels.
    One {
        channels: Vec<String>,
        event: String,
        /// Sealed when the one channel is encrypted.
        data: String,
        socket_id: Option<String>,
        /// `--info`: the attributes to print.
        info: Option<String>,
    },
}

impl TriggerPlan {
    pub fn from_args(args: TriggerArgs) -> anyhow::Result<TriggerPlan> {
        let conn = args.connection.merged()?;
        let rest = conn.rest_client()?;
        let send = match &args.batch {
            Some(path) => {
                let (mut events, lines) = read_batch(path)?;
                // Every event is sealed (or refused) before the first request goes out.
                let master = master_key(&conn, events.iter().map(|e| e.channel.as_str()))?;
                for ev in &mut events {
                    ev.data = seal(&ev.channel, &ev.data, master.as_ref())?;
                }
                Send::Batch { events, lines }
            }
            None => {
                let (Some(channels), Some(event)) = (&args.channels, args.event) else {
                    bail!(
                        "trigger needs CHANNEL and EVENT (or --batch FILE); see tickertape trigger --help"
                    );
                };
                let channels: Vec<String> = channels
                    .split(',')
                    .map(str::trim)
                    .filter(|c| !c.is_empty())
                    .map(str::to_owned)
                    .collect();
                check_channels(&channels)?;
                let data = read_data(args.data.as_deref())?;
                if !args.text {
                    check_json(&data)?;
                }
                let data = match channels.as_slice() {
                    [one] => seal(
                        one,
                        &data,
                        master_key(&conn, std::iter::once(one.as_str()))?.as_ref(),
                    )?,
                    _ => data,
                };
                Send::One {
                    channels,
                    event,
                    data,
                    socket_id: args.socket_id,
                    info: args.info,
                }
            }
        };
        Ok(TriggerPlan {
            rest,
            send,
            require_subscribers: args.require_subscribers,
            quiet: args.quiet,
        })
    }
}

/// Data that is not JSON is refused (a usage error that says how to send a string), as the
/// dashboard's trigger form refuses it: a typo in an object must not reach subscribers as a
/// string.
fn check_json(data: &str) -> anyhow::Result<()> {
    if let Err(e) = serde_json::from_str::<serde::de::IgnoredAny>(data) {
        let start: String = data.chars().take(40).collect();
        let more = if start.len() < data.len() { "…" } else { "" };
        return Err(anyhow::Error::new(UsageError(format!(
            "the data is not JSON ({e}): {start:?}{more}; to send a string, quote it as JSON \
             ('\"text\"'), or add --text to send it as it is"
        ))));
    }
    Ok(())
}

/// The event's data: `{}` by default, `-` reads it from stdin.
fn read_data(data: Option<&str>) -> anyhow::Result<String> {
    Ok(match data {
        None => "{}".to_owned(),
        Some("-") => {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .context("cannot read the data from stdin")?;
            text.trim_end_matches(['\n', '\r']).to_owned()
        }
        Some(text) => text.to_owned(),
    })
}

/// The master key, when one of `channels` is encrypted.
pub fn master_key<'a>(
    conn: &ConnectionArgs,
    channels: impl Iterator<Item = &'a str>,
) -> anyhow::Result<Option<[u8; KEY_LEN]>> {
    seal::master_key(conn.encryption_master_key.as_deref(), channels)
        .context("--encryption-master-key")
}

/// NDJSON lines of `{"channel","name","data"}`; `data` may be any JSON (objects are encoded).
/// Every line is checked as the protocol would refuse it (a channel or event name, a socket
/// id) before anything is sent, so a file is sent whole or not at all as far as the client
/// can tell; the data's size is the server's to judge (its limit varies: Pusher's 10 KB,
/// soketi's 100 KB). The events, and the line each came from.
fn read_batch(path: &Path) -> anyhow::Result<(Vec<BatchEvent>, Vec<usize>)> {
    let reader: Box<dyn BufRead> = if path.as_os_str() == "-" {
        Box::new(std::io::BufReader::new(std::io::stdin()))
    } else {
        Box::new(std::io::BufReader::new(
            std::fs::File::open(path).with_context(|| format!("cannot open {}", path.display()))?,
        ))
    };
    let (mut events, mut lines) = (Vec::new(), Vec::new());
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
        check_batch_event(&ev).map_err(|why| {
            anyhow::Error::new(UsageError(format!(
                "{} line {}: {}; nothing was sent",
                path.display(),
                n + 1,
                protocol::safe_text::terminal_safe(&why)
            )))
        })?;
        events.push(ev);
        lines.push(n + 1);
    }
    Ok((events, lines))
}

/// Why the protocol refuses an event of a batch, if it does: its channel (one a publisher
/// may trigger), its name, its socket id.
fn check_batch_event(ev: &BatchEvent) -> Result<(), String> {
    protocol::channel::validate_channel(&ev.channel, true).map_err(|e| e.to_string())?;
    protocol::channel::validate_event(&ev.name).map_err(|e| e.to_string())?;
    if let Some(id) = &ev.socket_id {
        protocol::signature::validate_socket_id(id).map_err(|e| e.to_string())?;
    }
    Ok(())
}

/// `stocks`: the publisher's settings, the companies read and the encryption checked.
pub struct StocksPlan {
    pub rest: RestClient,
    pub companies: Vec<String>,
    pub model: Model,
    pub channel: String,
    pub event: String,
    pub ts: bool,
    pub master_key: Option<[u8; KEY_LEN]>,
    /// Say on stderr what each tick reached (not with `--quiet`).
    pub report: bool,
    pub interval: Duration,
    pub count: Option<u64>,
}

impl StocksPlan {
    pub fn from_args(args: StocksArgs) -> anyhow::Result<StocksPlan> {
        let conn = args.connection.merged()?;
        let rest = conn.rest_client()?;
        let master_key = master_key(&conn, std::iter::once(args.channel.as_str()))?;
        // Refused before the first tick rather than at every one.
        seal(&args.channel, "{}", master_key.as_ref())?;
        let companies = match &args.companies {
            Some(path) => parse_companies(
                &std::fs::read_to_string(path)
                    .with_context(|| format!("cannot read {}", path.display()))?,
            ),
            None => default_companies(),
        };
        anyhow::ensure!(!companies.is_empty(), "the companies list is empty");
        Ok(StocksPlan {
            rest,
            companies,
            model: args.model.into(),
            channel: args.channel,
            event: args.event,
            ts: args.ts,
            master_key,
            report: !args.quiet,
            interval: args.interval,
            count: args.count,
        })
    }
}

/// `channels`: through which API, and what to ask.
pub struct ChannelsPlan {
    pub rest: RestClient,
    pub query: Query,
    /// Print the API's JSON instead of a table.
    pub json: bool,
}

/// What `channels` asks.
pub enum Query {
    /// The occupied channels, with this prefix.
    List { prefix: Option<String> },
    /// One channel's details.
    Channel(String),
    /// A presence channel's members.
    Users(String),
}

impl ChannelsPlan {
    pub fn from_args(args: ChannelsArgs) -> anyhow::Result<ChannelsPlan> {
        let rest = args.connection.merged()?.rest_client()?;
        let query = match (args.name, args.users) {
            (Some(name), true) => Query::Users(name),
            (Some(name), false) => Query::Channel(name),
            (None, _) => Query::List {
                prefix: args.prefix,
            },
        };
        Ok(ChannelsPlan {
            rest,
            query,
            json: args.json,
        })
    }
}
