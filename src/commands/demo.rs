//! `tickertape` (or `tickertape demo`): the seed end to end on one machine. The embedded
//! server on a free loopback port, the stock publisher at a lively interval, and a watcher
//! of `stock_ticker`: readable lines on a terminal, NDJSON when stdout is not one. (The
//! dashboard takes the watcher's place when it lands.)

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::cli::plan::DemoPlan;
use crate::cli::serve::DemoArgs;
use server::{self, App, ServerConfig};

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let plan = DemoPlan::from_args(args, !std::io::stdout().is_terminal())?;
    let app = App::local_default();
    let running = server::start(ServerConfig::new(vec![app.clone()]), plan.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the embedded server on {}: {e}", plan.listen))?;
    let addr = running.addr;
    say!("demo server on ws://{addr}; open http://{addr}/ to watch the same stream in a browser");
    let publisher = super::stocks::Publisher {
        client: DemoPlan::connection(&app, addr).rest_client()?,
        market: super::stocks::demo_market(),
        channel: plan.channel.clone(),
        event: plan.event.clone(),
        ts: true,
        master_key: None,
        // The dashboard owns the terminal.
        report: false,
    };
    let publishing = tokio::spawn(publisher.run(plan.interval, None));
    let result = match plan.watch(&app, addr) {
        Ok(watch) => super::watch::run(watch).await,
        Err(e) => Err(e),
    };
    publishing.abort();
    running.shutdown().await;
    result
}
