//! `tickertape serve`: the embedded server until Ctrl-C or SIGTERM, which close every client
//! with 4200 so that they reconnect.

use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::plan::ServePlan;
use protocol::safe_text::terminal_safe;
use server;
use server::log::{Log, LogFormat};

/// How long the log's last lines may take to be written at exit.
const LOG_FLUSH: std::time::Duration = std::time::Duration::from_millis(500);

pub async fn run(plan: ServePlan) -> anyhow::Result<ExitCode> {
    let ServePlan {
        config: mut cfg,
        listen,
        log,
        metrics: metrics_addr,
        descriptors,
        console,
    } = plan;
    // The console is fed by the log, as NDJSON, whatever --log says.
    let mut feed = None;
    if console.is_some() {
        let (tx, rx, tap) = super::serve_console::queue();
        let limits = log.map(|(_, l)| l).unwrap_or_default();
        cfg.log = Log::to_writer(LogFormat::Json, limits, Box::new(tap))
            .map_err(|e| anyhow::anyhow!("cannot start the log's writer: {e}"))?;
        feed = Some((tx, rx));
    } else if let Some((format, limits)) = log {
        cfg.log = Log::start(format, limits)
            .map_err(|e| anyhow::anyhow!("cannot start the log's writer: {e}"))?;
    }
    let keys: Vec<super::serve_console::AppKeys> = cfg
        .apps
        .iter()
        .map(|a| (a.id.clone(), a.key.clone(), a.secret.clone()))
        .collect();
    // Before anything is printed: a test (or a supervisor) may send SIGTERM as soon as it
    // reads the banner. The console also ends on SIGHUP (its terminal went away).
    let shutdown = match console {
        Some(_) => crate::signals::Signals::with_hangup(),
        None => crate::signals::Signals::install(),
    };
    let log = cfg.log.clone();
    let apps: Vec<String> = cfg.apps_summary();
    let app_ids: Vec<String> = cfg.apps.iter().map(|a| a.id.clone()).collect();
    let metrics = cfg.metrics.clone();
    let limits = cfg.limits;
    let running = server::start(cfg, listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    let endpoint = match metrics_addr {
        Some(addr) => {
            let channels = running.channel_count();
            let render: net::metrics::http::Render = Arc::new(move || {
                // Occupancy is read from the hub when scraped, one short lock per app.
                for id in &app_ids {
                    metrics.set_channels(id, channels.get(id));
                }
                metrics.render()
            });
            Some(
                net::metrics::http::start(addr, render)
                    .await
                    .map_err(|e| anyhow::anyhow!("cannot serve metrics on {addr}: {e}"))?,
            )
        }
        None => None,
    };
    if let (Some(console), Some((tx, rx))) = (console, feed) {
        let shown =
            super::serve_console::show(console, &running, keys, tx, rx, shutdown.wait()).await;
        // The terminal is back: what follows is plain lines.
        say!("serving on ws://{0} and http://{0} stopped", running.addr);
        running.shutdown().await;
        let _ = tokio::task::spawn_blocking(move || log.finish(LOG_FLUSH)).await;
        shown.map_err(|e| anyhow::anyhow!("the terminal: {e}"))?;
        return Ok(ExitCode::SUCCESS);
    }
    drop(keys);
    say!("serving on ws://{0} and http://{0}", running.addr);
    say!(
        "{descriptors}: up to {} WebSockets ({} per address) and {} HTTP connections ({} per address)",
        limits.max_connections,
        limits.max_connections_per_ip,
        limits.max_http_connections,
        limits.max_http_per_ip
    );
    if let Some(endpoint) = &endpoint {
        say!("metrics on http://{}/metrics", endpoint.addr);
    }
    for app in apps {
        say!("app {}", terminal_safe(&app));
    }
    say!("the seed's page is at http://{}/", running.addr);
    shutdown.wait().await;
    say!("shutting down; clients are told to reconnect (4200)");
    running.shutdown().await;
    // The last lines (and the count of dropped ones), unless stderr is stuck.
    let _ = tokio::task::spawn_blocking(move || log.finish(LOG_FLUSH)).await;
    Ok(ExitCode::SUCCESS)
}
