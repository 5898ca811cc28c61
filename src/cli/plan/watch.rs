//! `watch`'s plan: the connections (one, or one per `--profile` or `--node`, resolved by
//! [`super::connections::resolve`]), the channels, discovery with `--all`, the recording, and
//! the front end with its bindings and expectations already read.

use std::path::PathBuf;
use std::time::Duration;

use anyhow::Context;

use super::connections::UsageError;
use super::{DashboardPlan, FrontEnd, FrontPlan, read_bindings};
use crate::cli::config_file::Config;
use crate::cli::connection::ConnectionArgs;
use crate::cli::expect::rules;
use crate::cli::{WatchArgs, defaults};
use client::publish::RestClient;
use client::{ClientConfig, Labels};

/// Everything `watch` does, resolved.
pub struct WatchPlan {
    pub channels: Vec<String>,
    /// Every connection, each its own engine on a feed of its own (one, unlabelled, in the
    /// common case; several with several `--profile` or `--node`).
    pub connections: Vec<Connection>,
    /// Every connection's label, by index (empty with one connection: nothing is labelled).
    pub labels: Labels,
    /// `--record FILE`.
    pub record: Option<PathBuf>,
    pub front: FrontPlan,
}

/// The least share of `--max-buffer` a connection (or the dashboard) gets: room for its
/// states, subscription changes and small events however the others fare.
const MIN_SHARE: usize = 64 << 10;

/// One connection: its engine's settings, `--all`'s if given, and its server's REST API
/// when the credentials allow (the dashboard's trigger form).
pub struct Connection {
    pub client: ClientConfig,
    pub discover: Option<DiscoverPlan>,
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
        // Read once, for the `[keys]` and every connection's profile.
        let config = Config::read(args.connection.config.as_deref())?;
        let discovery = args.all.then(|| Discovery {
            prefix: args.prefix.clone(),
            every: args.discover_interval,
            presence: !args.no_presence,
        });
        let views = config.file.views()?;
        let view = match &args.view {
            None => None,
            Some(name) => Some(views.iter().find(|v| v.name == *name).cloned().ok_or_else(
                || {
                    let known: Vec<&str> = views.iter().map(|v| v.name.as_str()).collect();
                    anyhow::Error::new(UsageError(match known.is_empty() {
                        true => format!("no view {name:?}: the config file has no [views.NAME]"),
                        false => format!("no view {name:?}; views: {}", known.join(", ")),
                    }))
                },
            )?),
        };
        let mut args = args;
        // What a view loaded while watching keeps: the rules that are not the view's.
        let base_expect: Vec<observe::expect::Expectation> = args
            .expect
            .expect
            .iter()
            .chain(&args.expect.warn)
            .cloned()
            .collect();
        if let Some(v) = &view {
            for c in &v.channels {
                if !args.channels.contains(c) {
                    args.channels.push(c.clone());
                }
            }
            args.bindings.extend(v.bindings.iter().cloned());
            for rule in &v.expect {
                // Checked when the file was read.
                if let Ok(e) = observe::expect::Expectation::parse(rule)
                    && !base_expect.iter().any(|b| b.text == e.text)
                {
                    args.expect.expect.push(e);
                }
            }
            // Headless, the view's filter applies when it is jq and --where is not given.
            if args.where_.is_none()
                && let Some(f) = v
                    .filter
                    .as_deref()
                    .filter(|f| observe::jq::looks_like_jq(f))
            {
                args.where_ = observe::jq::Jq::parse(f).ok();
            }
        }
        let (bindings, file) = read_bindings(args.bindings, args.bindings_file.as_deref())?;
        let flags = args.expect.expect.iter().chain(&args.expect.warn).cloned();
        let expectations = rules(flags, file.as_deref(), &bindings, args.ts_field.as_ref())?;
        let front = FrontPlan {
            end: FrontEnd::choose(args.json, args.summary, FrontEnd::Lines),
            json_status: args.json_status,
            count: args.count,
            timeout: args.timeout,
            fail_fast: args.fail_fast,
            ts_field: args.ts_field,
            replayed: false,
            metrics: args.metrics,
            expect: args.expect,
            expectations,
            filter: args.where_,
            queue_bytes: args.max_buffer,
            dashboard: DashboardPlan {
                bindings,
                fps: args.fps,
                log_capacity: args.log_capacity,
                log_bytes: args.log_bytes,
                history: args.history,
                max_rows: args.max_rows,
                ascii: args.ascii,
                mouse: args.mouse,
                stats: args.stats,
                keys: config.file.keys.0.clone(),
                views,
                theme: config
                    .file
                    .theme(args.theme.as_deref())
                    .map_err(|e| anyhow::Error::new(UsageError(format!("{e:#}"))))?,
                config_path: config.path.clone(),
                view: args.view.clone(),
                base_expect,
                expect_file: file,
                ..DashboardPlan::default()
            },
        };
        // Read-only when asked, or when any profile used says so.
        let named: Vec<&str> = args
            .connection
            .profile
            .iter()
            .map(|p| p.trim())
            .filter(|p| !p.is_empty())
            .collect();
        let profile_readonly = if named.is_empty() {
            config.profile(None)?.readonly == Some(true)
        } else {
            named.iter().try_fold(false, |any, n| {
                anyhow::Ok(any || config.profile(Some(n))?.readonly == Some(true))
            })?
        };
        let mut front = front;
        front.dashboard.readonly = args.readonly || profile_readonly;
        let resolved = super::connections::resolve(args.connection, &args.nodes, &config)?;
        let labels = Labels::new(resolved.iter().map(|c| c.label.clone()).collect());
        let mut plan = WatchPlan::on(args.channels, front)?;
        for c in resolved {
            let connection = layered_connection(&c.args, discovery.as_ref());
            let connection = match labels.is_multi() {
                true => connection.with_context(|| format!("connection {}", c.label))?,
                false => connection?,
            };
            plan.connections.push(connection);
        }
        plan.labels = labels;
        plan.record = args.record;
        plan.share_budget(args.max_buffer, args.max_message)?;
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
        let mut plan = WatchPlan::on(channels, front)?;
        plan.connections.push(layered_connection(
            &connection.merged()?,
            discovery.as_ref(),
        )?);
        plan.share_budget(client::DEFAULT_QUEUE_BYTES, client::DEFAULT_MAX_MESSAGE)?;
        Ok(plan)
    }

    /// No connection yet, `channels` checked.
    fn on(channels: Vec<String>, front: FrontPlan) -> anyhow::Result<WatchPlan> {
        for channel in &channels {
            protocol::channel::validate_channel(channel, false)
                .map_err(client::ClientError::from)
                .context("cannot watch")?;
        }
        Ok(WatchPlan {
            channels,
            connections: Vec::new(),
            labels: Labels::default(),
            record: None,
            front,
        })
    }

    /// `--max-buffer` bounds every stage together: each connection's feed gets an equal
    /// share, and so does the dashboard's queue when there is one. A flood on one
    /// connection fills only its own share.
    /// A share too small for the states and subscription changes themselves is refused.
    fn share_budget(&mut self, max_buffer: usize, max_message: usize) -> anyhow::Result<()> {
        let screen = usize::from(self.front.end == FrontEnd::Screen);
        let shares = (self.connections.len() + screen).max(1);
        let share = max_buffer / shares;
        if share < MIN_SHARE {
            return Err(anyhow::Error::new(UsageError(format!(
                "--max-buffer {max_buffer} bytes in {shares} shares is too little: give at \
                 least {} KiB each",
                MIN_SHARE >> 10
            ))));
        }
        for c in &mut self.connections {
            c.client.queue_bytes = share;
            c.client.max_frame_bytes = max_message;
        }
        self.front.queue_bytes = share;
        Ok(())
    }
}

/// One layered connection's engine settings, `--all`'s plan and REST API.
fn layered_connection(
    connection: &ConnectionArgs,
    discovery: Option<&Discovery>,
) -> anyhow::Result<Connection> {
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
    Ok(Connection {
        client,
        discover,
        rest: connection.rest_client().ok(),
    })
}
