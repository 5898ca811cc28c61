//! Flags of the publishers and queries: `trigger`, `channels`, `stocks`.

use std::path::PathBuf;
use std::time::Duration;

use clap::Args;

use super::{ConnectionArgs, defaults};
use client::publish::stocks::Model;

#[derive(Args, Debug)]
pub struct TriggerArgs {
    /// Channel, or several separated by commas (at most 100)
    #[arg(value_name = "CHANNEL[,CHANNEL...]")]
    pub channels: Option<String>,
    /// Event name
    pub event: Option<String>,
    /// Event data, as JSON ('{"price":1}', '"a string"'); `-` reads it from stdin [default: {}].
    /// Data that is not JSON is refused, as the dashboard's trigger form refuses it, unless
    /// --text says to send it as it is
    pub data: Option<String>,
    /// Send DATA as it is, as a plain string, even when it is not JSON
    #[arg(long, conflicts_with = "batch")]
    pub text: bool,
    /// Do not deliver to this connection (the publisher's own socket)
    #[arg(long)]
    pub socket_id: Option<String>,
    /// Also print the channel attributes the server answers, as JSON on stdout:
    /// user_count, subscription_count (subscription_count is always asked for, for the report)
    #[arg(long)]
    pub info: Option<String>,
    /// Send NDJSON events ({"channel","name","data"}) from FILE (`-` for stdin), 10 per
    /// request. Every line is checked first: a bad one sends nothing
    #[arg(long, value_name = "FILE", conflicts_with_all = ["channels", "event", "data"])]
    pub batch: Option<PathBuf>,
    /// Exit with status 4 when a channel had no subscribers (or the server did not say)
    #[arg(long)]
    pub require_subscribers: bool,
    /// Do not report on stderr how many subscribers each channel had
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct ChannelsArgs {
    /// One channel's details instead of the list
    pub name: Option<String>,
    /// Only channels whose names start with this
    #[arg(long)]
    pub prefix: Option<String>,
    /// List the members of a presence channel (with NAME)
    #[arg(long, requires = "name")]
    pub users: bool,
    /// Print the API's JSON instead of a table
    #[arg(long)]
    pub json: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

#[derive(Args, Debug)]
pub struct StocksArgs {
    /// Time between updates
    #[arg(long, default_value = defaults::STOCKS_INTERVAL, value_parser = super::duration::parse_interval)]
    pub interval: Duration,
    /// Companies, one per line [default: the shipped list]
    #[arg(long, value_name = "FILE")]
    pub companies: Option<PathBuf>,
    /// walk: a random walk per company; uniform: the seed's integer from 0 to 99
    #[arg(long, value_enum, default_value_t = PriceModel::Walk)]
    pub model: PriceModel,
    #[arg(long, default_value = defaults::DEMO_CHANNEL)]
    pub channel: String,
    #[arg(long, default_value = defaults::DEMO_EVENT)]
    pub event: String,
    /// Add a publish timestamp field `ts` (milliseconds since the epoch)
    #[arg(long)]
    pub ts: bool,
    /// Stop after N updates
    #[arg(long, value_name = "N")]
    pub count: Option<u64>,
    /// Do not report on stderr how many subscribers received the ticks
    #[arg(long, short)]
    pub quiet: bool,
    #[command(flatten)]
    pub connection: ConnectionArgs,
}

/// `--model`: the command line's names for the publisher's [`Model`]s.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum PriceModel {
    /// A random walk per company, so the ticker looks like a market.
    Walk,
    /// The seed exactly: an integer from 0 to 99 (`rand 100`).
    Uniform,
}

impl From<PriceModel> for Model {
    fn from(m: PriceModel) -> Model {
        match m {
            PriceModel::Walk => Model::Walk,
            PriceModel::Uniform => Model::Uniform,
        }
    }
}
