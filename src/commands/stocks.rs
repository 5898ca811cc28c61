//! `tickertape stocks`: the seed's publisher, a company and a price every interval.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use anyhow::Context;

use crate::cli::publish::StocksArgs;
use crate::publish::RestClient;
use crate::publish::stocks::{Market, Model, default_companies, parse_companies};
use crate::safe_text::terminal_safe;

pub async fn run(args: StocksArgs) -> anyhow::Result<ExitCode> {
    let client = args.connection.clone().merged()?.rest_client()?;
    let companies = match &args.companies {
        Some(path) => parse_companies(
            &std::fs::read_to_string(path)
                .with_context(|| format!("cannot read {}", path.display()))?,
        ),
        None => default_companies(),
    };
    anyhow::ensure!(!companies.is_empty(), "the companies list is empty");
    let publisher = Publisher {
        client,
        market: Market::new(companies, args.model),
        channel: args.channel.clone(),
        event: args.event.clone(),
        ts: args.ts,
    };
    tokio::select! {
        r = publisher.run(args.interval, args.count) => r?,
        _ = tokio::signal::ctrl_c() => {}
    }
    Ok(ExitCode::SUCCESS)
}

pub struct Publisher {
    pub client: RestClient,
    pub market: Market,
    pub channel: String,
    pub event: String,
    /// Add `ts`, the publish time in milliseconds since the epoch.
    pub ts: bool,
}

impl Publisher {
    /// The seed's loop. A failed trigger is reported and the loop goes on, as a publisher
    /// behind a flaky network should; `count` ends it.
    pub async fn run(
        mut self,
        interval: std::time::Duration,
        count: Option<u64>,
    ) -> anyhow::Result<()> {
        let mut ticker = tokio::time::interval(interval);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut sent = 0u64;
        loop {
            ticker.tick().await;
            let mut tick = {
                let mut rng = rand::rng();
                self.market.tick(&mut rng)
            };
            if self.ts {
                let ms = SystemTime::now()
                    .duration_since(UNIX_EPOCH)
                    .map_or(0, |d| d.as_millis() as u64);
                tick["ts"] = serde_json::json!(ms);
            }
            match self
                .client
                .trigger(
                    std::slice::from_ref(&self.channel),
                    &self.event,
                    &tick.to_string(),
                    None,
                    None,
                )
                .await
            {
                Ok(_) => sent += 1,
                Err(e) => eprintln!("tickertape: stocks: {}", terminal_safe(&e.to_string())),
            }
            if count.is_some_and(|n| sent >= n) {
                return Ok(());
            }
        }
    }
}

/// The seed's model by name, for the demo.
pub fn demo_market() -> Market {
    Market::new(default_companies(), Model::Walk)
}
