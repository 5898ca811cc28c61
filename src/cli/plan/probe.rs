//! `probe`'s plan: its nodes (through the one resolution of `--node` and `--profile`, as
//! `watch`'s connections), the canary's channel and the probe's id, the pace, the verdict's
//! thresholds, and the front end chosen once.

use std::net::SocketAddr;

use anyhow::{anyhow, bail};

use super::FrontEnd;
use super::connections::resolve;
use crate::cli::config_file::Config;
use crate::cli::defaults;
use crate::cli::probe::{ProbeArgs, ProbeFormat};
use client::ClientConfig;
use client::publish::RestClient;
use observe::probe::run::Pace;
use observe::probe::verdict::Thresholds;

/// Everything `probe` does, resolved.
pub struct ProbePlan {
    pub nodes: Vec<ProbeNode>,
    /// The private channel of the canaries.
    pub channel: String,
    /// This probe's id, in the channel's name and in every canary.
    pub id: String,
    /// The app secret: the REST API's, and cut out of any error shown.
    pub secret: String,
    pub pace: Pace,
    /// How long presence lists may differ between nodes before it is an alert.
    pub settle: std::time::Duration,
    pub thresholds: Thresholds,
    pub metrics: Option<SocketAddr>,
    /// The screen, lines or NDJSON.
    pub front: FrontEnd,
    /// A Nagios plugin's output (`--format nagios`, or piped with `--for`): lines are not
    /// printed as they come; the verdict's line comes first at the end, then its detail.
    pub nagios: bool,
    pub color: bool,
    /// The config file's `[keys]`, for the screen.
    pub keys: tui::keys::KeyTable,
}

/// One node: its name in every output, its engine's settings and its REST API.
pub struct ProbeNode {
    pub name: String,
    pub client: ClientConfig,
    pub rest: RestClient,
}

impl ProbePlan {
    pub fn from_args(args: ProbeArgs) -> anyhow::Result<ProbePlan> {
        if args.warn_latency > args.crit_latency {
            bail!(
                "--warn-latency {:?} is above --crit-latency {:?}: a warning comes before critical",
                args.warn_latency,
                args.crit_latency
            );
        }
        let config = Config::read(args.connection.config.as_deref())?;
        let resolved = resolve(args.connection, &args.nodes, &config)?;
        let secret = resolved.first().and_then(|c| c.args.secret.clone()).ok_or_else(|| {
            anyhow!("probe needs the app secret (--secret or PUSHER_APP_SECRET): it publishes through the REST API and signs its private channel")
        })?;
        let id = defaults::probe_id();
        let channel = args
            .channel
            .unwrap_or_else(|| format!("{}{id}", defaults::PROBE_CHANNEL_PREFIX));
        if !channel.starts_with("private-") || channel.starts_with("private-encrypted-") {
            bail!("--channel {channel:?}: the canaries need a private channel (private-…)");
        }
        protocol::channel::validate_channel(&channel, false)?;
        let format = match (args.format, args.json, args.lines) {
            (Some(f), _, _) => Some(f),
            (None, true, _) => Some(ProbeFormat::Json),
            (None, false, true) => Some(ProbeFormat::Lines),
            (None, false, false) => None,
        };
        let (front, nagios) = match format {
            Some(ProbeFormat::Json) => (FrontEnd::Json, false),
            Some(ProbeFormat::Lines) => (FrontEnd::Lines, false),
            Some(ProbeFormat::Nagios) if args.window.is_none() => {
                bail!("--format nagios needs --for: a verdict needs a window")
            }
            Some(ProbeFormat::Nagios) => (FrontEnd::Lines, true),
            None => match FrontEnd::choose(false, false, FrontEnd::Lines) {
                FrontEnd::Screen => (FrontEnd::Screen, false),
                _ => (FrontEnd::Lines, args.window.is_some()),
            },
        };
        let mut nodes = Vec::with_capacity(resolved.len());
        for (i, c) in resolved.into_iter().enumerate() {
            let name = c.node_name()?;
            let mut client = c.args.client_config()?;
            client.user.id = format!("{}{i}", defaults::PROBE_USER_PREFIX);
            nodes.push(ProbeNode {
                name,
                client,
                rest: c.args.rest_client()?,
            });
        }
        Ok(ProbePlan {
            nodes,
            channel,
            id,
            secret,
            pace: Pace {
                interval: args.interval,
                loss_after: args.loss_after,
                summary_every: args.summary_every,
                window: args.window,
            },
            settle: args.settle,
            thresholds: Thresholds {
                warn_latency: args.warn_latency,
                crit_latency: args.crit_latency,
            },
            metrics: args.metrics,
            front,
            nagios,
            color: super::color_from_env(),
            keys: config.file.keys.0,
        })
    }

    /// The channels every node subscribes to: the canaries', and with several nodes the
    /// presence channel they all join.
    pub fn channels(&self) -> Vec<String> {
        let mut channels = vec![self.channel.clone()];
        if self.nodes.len() > 1 {
            let suffix = self.channel.trim_start_matches("private-");
            channels.push(format!("presence-{suffix}"));
        }
        channels
    }
}
