//! `serve`'s plan: the server's whole configuration (apps, limits, webhooks, from the flags,
//! the environment and the config file's `[server]`, read once), where it listens, its log
//! and its metrics endpoint.

use std::net::SocketAddr;

use crate::cli::serve::ServeArgs;
use server::ServerConfig;
use server::log::{LogFormat, LogLimits};

pub struct ServePlan {
    pub config: ServerConfig,
    pub listen: SocketAddr,
    /// `--log` or `--log-json`, with its queue's caps.
    pub log: Option<(LogFormat, LogLimits)>,
    pub metrics: Option<SocketAddr>,
    /// The descriptors the process may hold, raised to the hard limit before the caps
    /// were sized from them.
    pub descriptors: net::fd::Descriptors,
}

impl ServePlan {
    pub fn from_args(args: &ServeArgs) -> anyhow::Result<ServePlan> {
        // Before the caps are sized from it: the soft descriptor limit goes up to the hard
        // one.
        let descriptors = net::fd::raise();
        let (config, listen) = args.config()?;
        Ok(ServePlan {
            config,
            listen,
            log: args.log_settings(),
            metrics: args.metrics,
            descriptors,
        })
    }
}
