//! `serve`'s plan: the server's whole configuration (apps, limits, webhooks, from the flags,
//! the environment and the config file's `[server]`, read once), where it listens, its log
//! and its metrics endpoint.

use std::io::IsTerminal;
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
    /// The Debug Console, on a terminal (not with `--lines` or `--log-json`).
    pub console: Option<ConsolePlan>,
}

/// How the console looks and what it may do.
pub struct ConsolePlan {
    pub readonly: bool,
    pub color: bool,
    /// The config file's `[keys]`.
    pub keys: tui::keys::KeyTable,
}

impl ServePlan {
    pub fn from_args(args: &ServeArgs) -> anyhow::Result<ServePlan> {
        // Before the caps are sized from it: the soft descriptor limit goes up to the hard
        // one.
        let descriptors = net::fd::raise();
        let (config, listen) = args.config()?;
        let console = match (args.lines, args.log_json) {
            (false, false) if std::io::stdout().is_terminal() => Some(ConsolePlan {
                readonly: args.readonly,
                color: super::color_from_env(),
                keys: crate::cli::config_file::Config::read(args.config.as_deref())?
                    .file
                    .keys
                    .0,
            }),
            _ => None,
        };
        Ok(ServePlan {
            console,
            config,
            listen,
            log: args.log_settings(),
            metrics: args.metrics,
            descriptors,
        })
    }
}
