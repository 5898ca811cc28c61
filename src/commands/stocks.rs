//! `tickertape stocks`: the seed's publisher, a company and a price every interval.

use std::process::ExitCode;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::cli::plan::StocksPlan;
use client::publish::RestClient;
use client::publish::delivery::{COUNTING_OFF, hints};
use client::publish::seal::seal;
use client::publish::stocks::{Market, Model, default_companies};
use protocol::crypto::KEY_LEN;
use protocol::rest::{SUBSCRIPTION_COUNT, trigger_counts};
use protocol::safe_text::terminal_safe;

pub async fn run(plan: StocksPlan) -> anyhow::Result<ExitCode> {
    let publisher = Publisher {
        client: plan.rest,
        market: Market::new(plan.companies, plan.model),
        channel: plan.channel,
        event: plan.event,
        ts: plan.ts,
        master_key: plan.master_key,
        report: plan.report,
    };
    let mut signals = crate::signals::Signals::install();
    tokio::select! {
        r = publisher.run(plan.interval, plan.count) => r?,
        _ = signals.next() => {}
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
    /// Seals the ticks on a `private-encrypted-` channel.
    pub master_key: Option<[u8; KEY_LEN]>,
    /// Say on stderr how many subscribers each tick reached.
    pub report: bool,
}

/// What the last ticks reached, so that silence is warned about once, not at every tick.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Heard {
    Start,
    Someone,
    NoOne,
    Uncounted,
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
        let mut heard = Heard::Start;
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
            let data = seal(&self.channel, &tick.to_string(), self.master_key.as_ref())?;
            let channels = std::slice::from_ref(&self.channel);
            let info = self.report.then_some(SUBSCRIPTION_COUNT);
            match self
                .client
                .trigger(channels, &self.event, &data, None, info)
                .await
            {
                Ok(answer) => {
                    sent += 1;
                    if self.report {
                        let count = trigger_counts(&answer, channels)[0];
                        heard = self.say(heard, count).await;
                    }
                }
                Err(e) => say!("stocks: {}", terminal_safe(&e.to_string())),
            }
            if count.is_some_and(|n| sent >= n) {
                return Ok(());
            }
        }
    }

    /// Reports one tick's reach: the count every time, and a warning with suggestions when
    /// the channel falls silent (once, until someone listens again).
    async fn say(&self, heard: Heard, count: Option<u64>) -> Heard {
        let channel = terminal_safe(&self.channel);
        match count {
            None => {
                if heard != Heard::Uncounted {
                    say!("stocks: {COUNTING_OFF}");
                }
                Heard::Uncounted
            }
            Some(n) => {
                let noun = if n == 1 { "subscriber" } else { "subscribers" };
                say!("stocks: delivered to {n} {noun} on {channel}");
                if n > 0 {
                    return Heard::Someone;
                }
                if heard != Heard::NoOne {
                    say!("stocks: {channel} has no subscribers: the ticks reach no one");
                    for line in hints(&self.client, &[self.channel.as_str()]).await {
                        say!("stocks:   {line}");
                    }
                }
                Heard::NoOne
            }
        }
    }
}

/// The seed's model by name, for the demo.
pub fn demo_market() -> Market {
    Market::new(default_companies(), Model::Walk)
}
