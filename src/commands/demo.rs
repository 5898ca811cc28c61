//! `tickertape` (or `tickertape demo`): the seed end to end on one machine. The embedded
//! server on a free loopback port, the stock publisher at a lively interval, and a watcher
//! of `stock_ticker`: readable lines on a terminal, NDJSON when stdout is not one. (The
//! dashboard takes the watcher's place when it lands.)

use std::io::IsTerminal;
use std::process::ExitCode;

use crate::cli::serve::DemoArgs;
use crate::cli::{ConnectionArgs, WatchArgs};
use crate::server::{self, App, ServerConfig};

pub async fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    let app = App::local_default();
    let running = server::start(ServerConfig::new(vec![app.clone()]), args.listen)
        .await
        .map_err(|e| anyhow::anyhow!("cannot start the embedded server on {}: {e}", args.listen))?;
    let addr = running.addr;
    eprintln!(
        "tickertape: demo server on ws://{addr}; open http://{addr}/ to watch the same stream in a browser"
    );

    let connection = ConnectionArgs {
        key: Some(app.key.clone()),
        secret: Some(app.secret.expose().to_owned()),
        app_id: Some(app.id.clone()),
        host: Some(addr.ip().to_string()),
        port: Some(addr.port().to_string()),
        ..Default::default()
    };
    let publisher = super::stocks::Publisher {
        client: connection.rest_client()?,
        market: super::stocks::demo_market(),
        channel: "stock_ticker".into(),
        event: "update_event".into(),
        ts: true,
    };
    let publishing = tokio::spawn(publisher.run(args.interval, None));
    let watch = WatchArgs {
        channels: vec!["stock_ticker".into()],
        json: !std::io::stdout().is_terminal(),
        json_status: false,
        all: false,
        prefix: None,
        discover_interval: std::time::Duration::from_secs(2),
        count: None,
        timeout: None,
        fail_fast: false,
        summary: false,
        record: None,
        bindings: crate::dashboard::binding::seed_rules(),
        bindings_file: None,
        fps: 30,
        log_capacity: 10_000,
        log_bytes: crate::cli::DEFAULT_LOG_BYTES,
        history: 300,
        max_rows: 1_000,
        ascii: false,
        mouse: false,
        stats: args.stats.clone(),
        banner: Some(format!("page http://{addr}/")),
        max_buffer: crate::client::DEFAULT_QUEUE_BYTES,
        max_message: crate::client::DEFAULT_MAX_MESSAGE,
        ts_field: Some(
            crate::dashboard::binding::FieldPath::parse("ts").map_err(anyhow::Error::msg)?,
        ),
        expect: Default::default(),
        connection,
    };
    let result = super::watch::run(watch).await;
    publishing.abort();
    running.shutdown().await;
    result
}
