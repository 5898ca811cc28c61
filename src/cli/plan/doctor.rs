//! `doctor`'s plan. Unlike the other plans, settings that cannot be resolved (a bad `.env`
//! line, a value that is not a port, no app key) are not the end of the run: they are the
//! first hop's failure, said with the others' format. Only the flags' own mistakes (a bad
//! `--channel`) are usage errors.

use std::time::Duration;

use crate::cli::config_file::Config;
use crate::cli::connection::{EnvLayer, read_env};
use crate::cli::doctor::DoctorArgs;
use crate::cli::plan::connections::UsageError;
use client::ClientConfig;
use client::publish::RestClient;

/// Everything `doctor` does, resolved.
pub struct DoctorPlan {
    /// The environment's layer (empty when `--env-file` could not be read).
    pub env: EnvLayer,
    /// The settings, or why they cannot be used.
    pub settings: Result<Resolved, String>,
    /// The private channel of the authorization and round-trip hops.
    pub channel: String,
    /// The round trip publishes its event.
    pub publish: bool,
    pub json: bool,
    pub ascii: bool,
    pub color: bool,
    /// Each hop's deadline.
    pub hop_timeout: Duration,
    /// Where to listen for the server's webhooks (the last hop).
    pub webhooks_listen: Option<std::net::SocketAddr>,
}

/// Settings that can be tried.
pub struct Resolved {
    /// The layered flags, with where each value came from.
    pub args: crate::cli::ConnectionArgs,
    /// The engine's settings: endpoint, key, secret, auth endpoint and headers, TLS roots.
    pub client: ClientConfig,
    /// The REST API, or why there is none (no secret, no app id).
    pub rest: Result<RestClient, String>,
}

/// The default hop deadline: a healthy hop takes milliseconds.
const HOP_TIMEOUT: Duration = Duration::from_secs(5);

impl DoctorPlan {
    pub fn from_args(args: DoctorArgs) -> anyhow::Result<DoctorPlan> {
        let channel = match args.channel {
            Some(c) => {
                let c = c.trim().to_owned();
                if !c.starts_with("private-") || c.starts_with("private-encrypted-") {
                    return Err(UsageError(format!(
                        "--channel {}: the authorization hop needs a private channel (private-…)",
                        client::quoted(&c)
                    ))
                    .into());
                }
                protocol::channel::validate_channel(&c, false)
                    .map_err(|e| UsageError(format!("--channel {}: {e}", client::quoted(&c))))?;
                c
            }
            None => format!("private-tickertape-doctor-{:08x}", rand::random::<u32>()),
        };
        let hop_timeout = args
            .hop_timeout
            .or(args.connection.connect_timeout)
            .unwrap_or(HOP_TIMEOUT);
        let color = {
            use std::io::IsTerminal;
            !args.json
                && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
                && std::io::stdout().is_terminal()
        };
        let (env, settings) = match read_env(args.connection.env_file.as_deref()) {
            Ok(env) => {
                let settings = resolve(args.connection, env.clone());
                (env, settings)
            }
            Err(e) => (EnvLayer::default(), Err(format!("{e:#}"))),
        };
        Ok(DoctorPlan {
            env,
            settings,
            channel,
            publish: !args.no_publish,
            json: args.json,
            ascii: args.ascii,
            color,
            hop_timeout,
            webhooks_listen: args.webhooks_listen,
        })
    }
}

fn resolve(connection: crate::cli::ConnectionArgs, env: EnvLayer) -> Result<Resolved, String> {
    let text = |e: anyhow::Error| format!("{e:#}");
    let config = Config::read(connection.config.as_deref()).map_err(text)?;
    let profile = connection.profile.first().cloned();
    let args = connection
        .layered_with(&config, profile.as_deref(), env)
        .map_err(text)?;
    let client = args.client_config().map_err(text)?;
    let rest = args.rest_client().map_err(text);
    Ok(Resolved { args, client, rest })
}
