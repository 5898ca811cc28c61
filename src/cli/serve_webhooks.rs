//! `serve`'s webhook flags, and the targets they and the config file give each app.

use std::collections::HashMap;
use std::time::Duration;

use clap::Args;

use super::config_file::ServerApp;
use super::defaults;
use super::duration::parse_timeout;
use server::App;
use server::webhooks::target::parse_kinds;
use server::webhooks::{Kinds, QueueLimits, Target, WebhookConfig, WebhookLimits, WebhookUrl};

#[derive(Args, Debug)]
#[command(next_help_heading = "Webhooks")]
pub struct WebhookArgs {
    /// POST Pusher webhooks of every app to URL (repeatable): channel_occupied,
    /// channel_vacated, member_added, member_removed, client_event and cache_miss, batched,
    /// signed with the app's secret (X-Pusher-Key, X-Pusher-Signature)
    #[arg(long = "webhook", value_name = "URL", value_parser = WebhookUrlParser)]
    pub urls: Vec<WebhookUrl>,
    /// Only these events for --webhook: a comma list, e.g. channel_occupied,channel_vacated
    #[arg(long, value_name = "LIST", requires = "urls", value_parser = parse_kinds)]
    pub webhook_events: Option<Kinds>,
    /// Events waiting per webhook URL; past it (a slow or dead receiver) events are dropped
    /// and counted
    #[arg(long, value_name = "N", default_value_t = QueueLimits::DEFAULT_EVENTS as u32,
          value_parser = clap::value_parser!(u32).range(1..=10_000_000))]
    pub webhook_queue: u32,
    /// Bytes of events waiting per webhook URL (each event counts its strings and 64 B)
    #[arg(long, value_name = "SIZE", default_value = defaults::WEBHOOK_QUEUE_BYTES, value_parser = super::size::parse_size)]
    pub webhook_queue_bytes: usize,
    /// One webhook request's deadline: connecting, sending and the answer
    #[arg(long, value_name = "DURATION", default_value = defaults::WEBHOOK_TIMEOUT, value_parser = parse_timeout)]
    pub webhook_timeout: Duration,
    /// How long a failed webhook request (no answer in time, or not 2xx) is retried, with
    /// backoff from 0.5 s doubling up to 8 s, before its events are dropped and counted
    #[arg(long, value_name = "DURATION", default_value = defaults::WEBHOOK_RETRY_FOR, value_parser = parse_timeout)]
    pub webhook_retry_for: Duration,
}

impl WebhookArgs {
    fn limits(&self) -> WebhookLimits {
        WebhookLimits {
            queue: QueueLimits {
                events: self.webhook_queue as usize,
                bytes: self.webhook_queue_bytes,
            },
            timeout: self.webhook_timeout,
            retry_for: self.webhook_retry_for,
            ..WebhookLimits::default()
        }
    }

    /// Each app's targets: the config file's own (when the apps are the file's), then every
    /// `--webhook`.
    pub fn config(
        &self,
        apps: &[App],
        file_apps: Option<&[ServerApp]>,
    ) -> anyhow::Result<WebhookConfig> {
        let mut targets: HashMap<String, Vec<Target>> = HashMap::new();
        for app in file_apps.unwrap_or_default() {
            for (n, hook) in app.webhooks.iter().enumerate() {
                let kinds = match &hook.events {
                    None => Kinds::all(),
                    Some(list) if list.is_empty() => anyhow::bail!(
                        "invalid config file: app {}'s webhook {} has events = [], which sends \
                         nothing; leave events out to send every event",
                        app.id,
                        n + 1
                    ),
                    Some(list) => Kinds(list.iter().map(|k| k.0).collect()),
                };
                targets.entry(app.id.clone()).or_default().push(Target {
                    url: hook.url.clone(),
                    kinds,
                });
            }
        }
        let kinds = self.webhook_events.clone().unwrap_or_else(Kinds::all);
        for app in apps {
            for url in &self.urls {
                targets.entry(app.id.clone()).or_default().push(Target {
                    url: url.clone(),
                    kinds: kinds.clone(),
                });
            }
        }
        Ok(WebhookConfig {
            targets,
            limits: self.limits(),
        })
    }
}

/// Parses `--webhook URL`. clap's own "invalid value" error repeats the value, which may
/// hold credentials: this one names the flag and the problem, with the URL redacted.
#[derive(Clone, Copy, Debug)]
pub struct WebhookUrlParser;

impl clap::builder::TypedValueParser for WebhookUrlParser {
    type Value = WebhookUrl;

    fn parse_ref(
        &self,
        cmd: &clap::Command,
        _arg: Option<&clap::Arg>,
        value: &std::ffi::OsStr,
    ) -> Result<WebhookUrl, clap::Error> {
        let problem = match value.to_str() {
            Some(text) => match WebhookUrl::parse(text) {
                Ok(url) => return Ok(url),
                Err(problem) => problem,
            },
            None => "the value is not UTF-8".to_owned(),
        };
        let problem = protocol::safe_text::terminal_safe(&problem).into_owned();
        let err = clap::Error::raw(
            clap::error::ErrorKind::ValueValidation,
            format!("invalid value for '--webhook <URL>': {problem}\n"),
        );
        Err(err.with_cmd(cmd))
    }
}
