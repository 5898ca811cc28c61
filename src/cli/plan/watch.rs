//! `watch`'s plan: the connection (through [`ConnectionArgs::merged`], the layering of the
//! connection settings), the channels, discovery with `--all`, the recording and the front end.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::{DashboardPlan, FrontPlan};
use crate::cli::connection::ConnectionArgs;
use crate::cli::{WatchArgs, defaults};
use crate::client::ClientConfig;
use crate::publish::RestClient;

/// Everything `watch` does, resolved.
pub struct WatchPlan {
    pub channels: Vec<String>,
    pub client: ClientConfig,
    /// The same server's REST API, when the credentials allow (the dashboard's trigger form).
    pub rest: Option<RestClient>,
    /// `--all`.
    pub discover: Option<DiscoverPlan>,
    /// `--record FILE`.
    pub record: Option<PathBuf>,
    pub front: FrontPlan,
}

/// `watch --all`: which channels to look for, how often, through which REST API.
#[derive(Clone)]
pub struct DiscoverPlan {
    pub rest: RestClient,
    /// Only channels whose names start with this (`None`: every channel).
    pub prefix: Option<String>,
    pub every: Duration,
    /// Follow presence channels too (not with `--no-presence`).
    pub presence: bool,
}

/// `--all`'s own settings, before they are resolved.
pub struct Discovery {
    pub prefix: Option<String>,
    pub every: Duration,
    pub presence: bool,
}

impl WatchPlan {
    pub fn from_args(args: WatchArgs) -> anyhow::Result<WatchPlan> {
        let discovery = args.all.then(|| Discovery {
            prefix: args.prefix.clone(),
            every: args.discover_interval,
            presence: !args.no_presence,
        });
        let front = FrontPlan {
            json: args.json,
            json_status: args.json_status,
            summary: args.summary,
            count: args.count,
            timeout: args.timeout,
            fail_fast: args.fail_fast,
            ts_field: args.ts_field,
            replayed: false,
            metrics: args.metrics,
            expect: args.expect,
            dashboard: DashboardPlan {
                bindings: args.bindings,
                bindings_file: args.bindings_file,
                fps: args.fps,
                log_capacity: args.log_capacity,
                log_bytes: args.log_bytes,
                history: args.history,
                max_rows: args.max_rows,
                ascii: args.ascii,
                mouse: args.mouse,
                stats: args.stats,
                // `[keys]` from the config file (checked when the connection is layered).
                keys: crate::cli::config_file::load(args.connection.config.as_deref())?
                    .0
                    .keys
                    .0,
                ..DashboardPlan::default()
            },
        };
        let mut plan = WatchPlan::connect(args.connection, args.channels, discovery, front)?;
        plan.client.queue_bytes = args.max_buffer;
        plan.client.max_frame_bytes = args.max_message;
        plan.record = args.record;
        Ok(plan)
    }

    /// A plan to watch `channels` through `connection`, layered with the environment and
    /// the profile; the engine's limits are the defaults, and nothing is recorded.
    pub fn connect(
        connection: ConnectionArgs,
        channels: Vec<String>,
        discovery: Option<Discovery>,
        front: FrontPlan,
    ) -> anyhow::Result<WatchPlan> {
        let connection = connection.merged()?;
        let mut client = connection.client_config()?;
        for channel in &channels {
            crate::protocol::channel::validate_channel(channel, false)
                .map_err(crate::client::ClientError::from)
                .context("cannot watch")?;
        }
        let discover = match discovery {
            None => None,
            Some(d) => {
                // Everyone listing a presence channel's members sees this one: say what it is.
                // (`connection.user_id` is already layered: flag, environment, profile.)
                client.user.id = connection
                    .user_id
                    .clone()
                    .unwrap_or_else(defaults::observer_id);
                Some(DiscoverPlan {
                    rest: connection
                        .rest_client()
                        .context("--all asks the REST API which channels are occupied")?,
                    prefix: d.prefix,
                    every: d.every,
                    presence: d.presence,
                })
            }
        };
        Ok(WatchPlan {
            channels,
            client,
            rest: connection.rest_client().ok(),
            discover,
            record: None,
            front,
        })
    }
}
