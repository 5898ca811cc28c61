//! `demo`'s plan: the embedded server's address, the publisher's pace, and the watcher of
//! the seed's channel, which gets its connection once the server is up.

use std::net::SocketAddr;
use std::time::Duration;

use anyhow::anyhow;

use super::{DashboardPlan, FrontEnd, FrontPlan, WatchPlan};
use crate::cli::connection::ConnectionArgs;
use crate::cli::defaults;
use crate::cli::serve::DemoArgs;
use observe::binding::{FieldPath, seed_rules};
use server::App;

pub struct DemoPlan {
    pub listen: SocketAddr,
    /// Time between stock updates.
    pub interval: Duration,
    pub channel: String,
    pub event: String,
    /// The watcher, without its connection.
    pub front: FrontPlan,
}

impl DemoPlan {
    /// `json`: print NDJSON (stdout is not a terminal) instead of the dashboard.
    pub fn from_args(args: DemoArgs, json: bool) -> anyhow::Result<DemoPlan> {
        Ok(DemoPlan {
            listen: args.listen,
            interval: args.interval,
            channel: defaults::DEMO_CHANNEL.into(),
            event: defaults::DEMO_EVENT.into(),
            front: FrontPlan {
                end: if json {
                    FrontEnd::Json
                } else {
                    FrontEnd::Screen
                },
                ts_field: Some(FieldPath::parse(defaults::DEMO_TS_FIELD).map_err(|e| anyhow!(e))?),
                dashboard: DashboardPlan {
                    bindings: seed_rules(),
                    stats: args.stats,
                    // The screen's keys: the default config file's `[keys]`.
                    keys: crate::cli::config_file::load(None)?.0.keys.0,
                    ..DashboardPlan::default()
                },
                ..FrontPlan::default()
            },
        })
    }

    /// The embedded server's connection settings, for `app` listening on `addr`.
    pub fn connection(app: &App, addr: SocketAddr) -> ConnectionArgs {
        ConnectionArgs {
            key: Some(app.key.clone()),
            secret: Some(app.secret.expose().to_owned()),
            app_id: Some(app.id.clone()),
            host: Some(addr.ip().to_string()),
            port: Some(addr.port().to_string()),
            ..Default::default()
        }
    }

    /// The watcher's plan, once the server listens on `addr`.
    pub fn watch(&self, app: &App, addr: SocketAddr) -> anyhow::Result<WatchPlan> {
        let mut front = self.front.clone();
        front.dashboard.banner = Some(format!("page http://{addr}/"));
        WatchPlan::connect(
            DemoPlan::connection(app, addr),
            vec![self.channel.clone()],
            None,
            front,
        )
    }
}
