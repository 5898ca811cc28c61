//! `watch`'s plan: the connection (through [`ConnectionArgs::merged`], the layering of the
//! connection settings), the channels, discovery with `--all`, the recording and the front end.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::{DashboardPlan, FrontPlan};
use crate::cli::connection::ConnectionArgs;
use crate::cli::{WatchArgs, defaults};
use client::publish::RestClient;
use client::{ClientConfig, Labels};

/// Everything `watch` does, resolved.
pub struct WatchPlan {
    pub channels: Vec<String>,
    /// The first (usually the only) connection.
    pub client: ClientConfig,
    /// The same server's REST API, when the credentials allow (the dashboard's trigger form).
    pub rest: Option<RestClient>,
    /// `--all`.
    pub discover: Option<DiscoverPlan>,
    /// The other connections, with several `--profile` or `--node`: each its own engine,
    /// all feeding the one front end under one `--max-buffer`.
    pub more: Vec<Connection>,
    /// Every connection's label, by index (empty with one connection: nothing is labelled).
    pub labels: Labels,
    /// `--record FILE`.
    pub record: Option<PathBuf>,
    pub front: FrontPlan,
}

/// A connection besides the first: its engine's settings, and `--all`'s, if given.
pub struct Connection {
    pub client: ClientConfig,
    pub discover: Option<DiscoverPlan>,
    /// Its server's REST API, when the credentials allow (the trigger form).
    pub rest: Option<RestClient>,
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
        let mut connections = super::connections::resolve(args.connection, &args.nodes)?;
        let first = connections.remove(0);
        let labels: Vec<String> = std::iter::once(first.label.clone())
            .chain(connections.iter().map(|c| c.label.clone()))
            .collect();
        let mut plan = WatchPlan::layered(first.args, args.channels, discovery.as_ref(), front)?;
        for c in connections {
            let (client, discover, rest) = layered_connection(&c.args, discovery.as_ref())
                .with_context(|| format!("connection {}", c.label))?;
            plan.more.push(Connection {
                client,
                discover,
                rest,
            });
        }
        plan.labels = Labels::new(labels);
        for client in
            std::iter::once(&mut plan.client).chain(plan.more.iter_mut().map(|c| &mut c.client))
        {
            client.queue_bytes = args.max_buffer;
            client.max_frame_bytes = args.max_message;
        }
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
        WatchPlan::layered(connection.merged()?, channels, discovery.as_ref(), front)
    }

    /// [`WatchPlan::connect`] with a connection already layered.
    fn layered(
        connection: ConnectionArgs,
        channels: Vec<String>,
        discovery: Option<&Discovery>,
        front: FrontPlan,
    ) -> anyhow::Result<WatchPlan> {
        for channel in &channels {
            protocol::channel::validate_channel(channel, false)
                .map_err(client::ClientError::from)
                .context("cannot watch")?;
        }
        let (client, discover, rest) = layered_connection(&connection, discovery)?;
        Ok(WatchPlan {
            channels,
            client,
            rest,
            discover,
            more: Vec::new(),
            labels: Labels::default(),
            record: None,
            front,
        })
    }
}

/// One layered connection's engine settings, `--all`'s plan and REST API.
fn layered_connection(
    connection: &ConnectionArgs,
    discovery: Option<&Discovery>,
) -> anyhow::Result<(ClientConfig, Option<DiscoverPlan>, Option<RestClient>)> {
    let mut client = connection.client_config()?;
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
                prefix: d.prefix.clone(),
                every: d.every,
                presence: d.presence,
            })
        }
    };
    Ok((client, discover, connection.rest_client().ok()))
}
