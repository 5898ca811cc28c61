//! `tickertape serve`: the embedded server until Ctrl-C or SIGTERM, which close every client
//! with 4200 so that they reconnect.

use std::process::ExitCode;

use crate::cli::serve::ServeArgs;
use crate::safe_text::terminal_safe;
use crate::server;

pub async fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    let (cfg, listen) = args.config()?;
    let apps: Vec<String> = cfg.apps_summary();
    let running = server::start(cfg, listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot listen on {listen}: {e}"))?;
    eprintln!(
        "tickertape: serving on ws://{0} and http://{0}",
        running.addr
    );
    for app in apps {
        eprintln!("tickertape: app {}", terminal_safe(&app));
    }
    eprintln!("tickertape: the seed's page is at http://{}/", running.addr);
    shutdown_signal().await;
    eprintln!("tickertape: shutting down; clients are told to reconnect (4200)");
    running.shutdown().await;
    Ok(ExitCode::SUCCESS)
}

/// Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()).ok();
        tokio::select! {
            _ = ctrl_c => {}
            _ = async { match term.as_mut() { Some(t) => { t.recv().await; } None => std::future::pending().await } } => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
}
