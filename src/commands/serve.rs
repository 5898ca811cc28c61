//! `tickertape serve`: the embedded server until Ctrl-C or SIGTERM, which close every client
//! with 4200 so that they reconnect.

use std::process::ExitCode;
use std::sync::Arc;

use crate::cli::plan::ServePlan;
use protocol::safe_text::terminal_safe;
use server;
use server::log::Log;

/// How long the log's last lines may take to be written at exit.
const LOG_FLUSH: std::time::Duration = std::time::Duration::from_millis(500);

pub async fn run(plan: ServePlan) -> anyhow::Result<ExitCode> {
    let ServePlan {
        config: mut cfg,
        listen,
        log,
        metrics: metrics_addr,
        descriptors,
    } = plan;
    if let Some((format, limits)) = log {
        cfg.log = Log::start(format, limits)
            .map_err(|e| anyhow::anyhow!("cannot start the log's writer: {e}"))?;
    }
    // Before anything is printed: a test (or a supervisor) may send SIGTERM as soon as it
    // reads the banner.
    let shutdown = crate::signals::Signals::install();
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
