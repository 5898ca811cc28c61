//! Plans: what a command will do, resolved once from the command line, the environment, the
//! config-file profile and [`super::defaults`] (by [`super::layer`]'s one rule). A plan
//! holds resolved values only; an `Option` in it means "none" (no `--count`, no file), never
//! "not decided yet". The commands build a plan and hand it on; nothing after them goes
//! back to the flags.

mod check;
pub mod connections;
mod demo;
pub mod doctor;
mod probe;
mod publish;
mod replay;
mod serve;
mod watch;

use std::path::PathBuf;
use std::time::Duration;

pub use check::CheckPlan;
pub use demo::DemoPlan;
pub use probe::{ProbeNode, ProbePlan};
pub use publish::{ChannelsPlan, Query, Send, StocksPlan, TriggerPlan, master_key};
pub use replay::ReplayPlan;
pub use serve::{ConsolePlan, ServePlan};
pub use watch::{Connection, DiscoverPlan, WatchPlan};

use anyhow::Context;

use super::defaults;
use observe::binding::Binding;
use observe::binding::FieldPath;
use observe::expect::Expectation;

/// Which front end shows the items, chosen once.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum FrontEnd {
    /// The dashboard, on a terminal.
    #[default]
    Screen,
    /// Readable lines (stdout is not a terminal, `--lines`).
    Lines,
    /// NDJSON (`--json`, or stdout is not a terminal for `watch`).
    Json,
    /// One JSON object at the end (`watch --summary`).
    Summary,
}

impl FrontEnd {
    /// `--json`, else `--summary`, else the dashboard on a terminal, else `otherwise`.
    pub fn choose(json: bool, summary: bool, otherwise: FrontEnd) -> FrontEnd {
        use std::io::IsTerminal;
        match (json, summary) {
            (true, _) => FrontEnd::Json,
            (false, true) => FrontEnd::Summary,
            _ if std::io::stdout().is_terminal() => FrontEnd::Screen,
            _ => otherwise,
        }
    }
}

/// What the front end (the dashboard, or lines and NDJSON) does with the items it gets.
#[derive(Debug, Clone)]
pub struct FrontPlan {
    pub end: FrontEnd,
    pub json_status: bool,
    /// Stop after this many application events.
    pub count: Option<u64>,
    /// Stop after this long.
    pub timeout: Option<Duration>,
    pub fail_fast: bool,
    /// Where events carry their publish time, for latency.
    pub ts_field: Option<FieldPath>,
    /// The items are a recording's: states are history, shown as such, and never end the run.
    pub replayed: bool,
    /// Serve Prometheus metrics here (`--metrics`).
    pub metrics: Option<std::net::SocketAddr>,
    /// Bytes of items waiting for the dashboard (a share of `--max-buffer`).
    pub queue_bytes: usize,
    /// `--expect`, `--warn` and `--bell`.
    pub expect: crate::cli::expect::ExpectArgs,
    /// Every expectation, in order: `--expect`, `--warn`, then the bindings file's, keyed by
    /// the ticker bindings.
    pub expectations: Vec<Expectation>,
    /// `--where`: only the events this jq expression passes.
    pub filter: Option<observe::jq::Jq>,
    pub dashboard: DashboardPlan,
}

impl Default for FrontPlan {
    fn default() -> FrontPlan {
        FrontPlan {
            end: FrontEnd::default(),
            json_status: false,
            count: None,
            timeout: None,
            fail_fast: false,
            ts_field: None,
            replayed: false,
            metrics: None,
            queue_bytes: client::DEFAULT_QUEUE_BYTES,
            expect: crate::cli::expect::ExpectArgs::default(),
            expectations: Vec::new(),
            filter: None,
            dashboard: DashboardPlan::default(),
        }
    }
}

/// The dashboard's settings.
#[derive(Debug, Clone)]
pub struct DashboardPlan {
    /// `--bind`'s rules, then the bindings file's (read once, when the plan is made).
    pub bindings: Vec<Binding>,
    pub fps: u32,
    pub log_capacity: usize,
    pub log_bytes: usize,
    pub history: usize,
    pub max_rows: usize,
    pub ascii: bool,
    pub mouse: bool,
    /// From the environment: `NO_COLOR` set to anything but empty turns colour off.
    pub color: bool,
    /// Where to write the dashboard's own timings at exit.
    pub stats: Option<PathBuf>,
    /// A first line for the dashboard's key hints (the demo's page URL).
    pub banner: Option<String>,
    /// The config file's `[keys]`.
    pub keys: tui::keys::KeyTable,
    /// What the items come from when it is not a connection (`tickertape webhooks`).
    pub receiving: Option<String>,
    /// `--readonly`, or `readonly = true` in a profile used: nothing is sent to a server.
    pub readonly: bool,
    /// The config file's views (checked), where it is, and the view to start from.
    pub views: Vec<tui::watch::ViewSpec>,
    pub config_path: Option<PathBuf>,
    pub view: Option<String>,
    /// `--theme` and `[theme]`, checked.
    pub theme: tui::kit::ThemeSpec,
    /// The rules that are not the view's (`--expect`, `--warn`) and the bindings file's
    /// text: a view loaded while watching adds its rules to these.
    pub base_expect: Vec<Expectation>,
    pub expect_file: Option<String>,
}

impl Default for DashboardPlan {
    fn default() -> DashboardPlan {
        DashboardPlan {
            bindings: Vec::new(),
            fps: defaults::FPS,
            log_capacity: defaults::LOG_CAPACITY,
            log_bytes: defaults::LOG_BYTES,
            history: defaults::HISTORY,
            max_rows: defaults::MAX_ROWS,
            ascii: false,
            mouse: false,
            color: color_from_env(),
            stats: None,
            banner: None,
            keys: tui::keys::KeyTable::default(),
            receiving: None,
            readonly: false,
            views: Vec::new(),
            config_path: None,
            view: None,
            theme: tui::kit::ThemeSpec::default(),
            base_expect: Vec::new(),
            expect_file: None,
        }
    }
}

impl FrontPlan {
    /// The watch screen's options.
    pub fn dashboard_options(&self) -> tui::watch::Options {
        let d = &self.dashboard;
        tui::watch::Options {
            log_capacity: d.log_capacity,
            log_bytes: d.log_bytes,
            history: d.history,
            max_rows: d.max_rows,
            ascii: d.ascii,
            color: d.color,
            stop_after: self.count,
            readonly: d.readonly,
        }
    }

    /// What the watch screen's items come from.
    pub fn source(&self) -> tui::watch::Source {
        match (&self.dashboard.receiving, self.replayed) {
            (Some(what), _) => tui::watch::Source::Receiving(what.clone()),
            (None, true) => tui::watch::Source::Replay,
            (None, false) => tui::watch::Source::Live,
        }
    }
}

/// The bindings: `--bind`'s, then those of the bindings file, read once here; and the file's
/// text, for its `[[expect]]` tables.
pub fn read_bindings(
    flags: Vec<Binding>,
    file: Option<&std::path::Path>,
) -> anyhow::Result<(Vec<Binding>, Option<String>)> {
    let mut bindings = flags;
    let Some(path) = file else {
        return Ok((bindings, None));
    };
    let text =
        std::fs::read_to_string(path).with_context(|| format!("cannot read {}", path.display()))?;
    bindings.extend(observe::binding::parse_file(&text).map_err(anyhow::Error::msg)?);
    Ok((bindings, Some(text)))
}

/// `NO_COLOR` (<https://no-color.org>): present and not empty means no colour.
pub fn color_from_env() -> bool {
    std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty())
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;
    use crate::cli::{Cli, Command};

    fn parse(args: &[&str]) -> Command {
        let argv = ["tickertape"].iter().chain(args);
        Cli::try_parse_from(argv).unwrap().command.unwrap()
    }

    /// The flags' defaults and the plans' are one set: a plan built from no flags is the
    /// plan demo and replay start from.
    #[test]
    fn the_flags_and_the_plans_share_their_defaults() {
        let Command::Watch(args) = parse(&["watch", "c", "--key", "k", "--config", "/dev/null"])
        else {
            panic!()
        };
        let plan = WatchPlan::from_args(*args).unwrap();
        let (got, want) = (&plan.front.dashboard, DashboardPlan::default());
        assert_eq!(
            (
                got.fps,
                got.log_capacity,
                got.log_bytes,
                got.history,
                got.max_rows
            ),
            (
                want.fps,
                want.log_capacity,
                want.log_bytes,
                want.history,
                want.max_rows
            )
        );
        let first = &plan.connections[0];
        // `--max-buffer` is shared between the feed and, on a terminal, the dashboard's queue.
        let shares = 1 + usize::from(plan.front.end == FrontEnd::Screen);
        assert_eq!(
            first.client.queue_bytes,
            client::DEFAULT_QUEUE_BYTES / shares
        );
        assert_eq!(first.client.max_frame_bytes, client::DEFAULT_MAX_MESSAGE);
        assert!(first.discover.is_none() && !plan.front.replayed);
        assert!(first.client.user.id.starts_with("tickertape-"));
        assert!(!first.client.user.id.starts_with(defaults::OBSERVER_PREFIX));

        let Command::Replay(args) = parse(&["replay", "f.ndjson"]) else {
            panic!()
        };
        let plan = ReplayPlan::from_args(*args).unwrap();
        assert_eq!(plan.speed, defaults::REPLAY_SPEED);
        assert!(plan.front.replayed);
        assert_eq!(plan.front.dashboard.fps, defaults::FPS);

        let Command::Demo(args) = parse(&["demo"]) else {
            panic!()
        };
        let from_flags = DemoPlan::from_args(args, true).unwrap();
        let from_default =
            DemoPlan::from_args(crate::cli::serve::DemoArgs::default(), true).unwrap();
        assert_eq!(
            (from_flags.listen, from_flags.interval),
            (from_default.listen, from_default.interval)
        );
        assert_eq!(from_flags.channel, defaults::DEMO_CHANNEL);
    }

    /// Each connection gets its share of `--max-buffer`, and a share too small for its
    /// states is a usage error.
    #[test]
    fn max_buffer_is_shared_between_the_connections() {
        let watch = |buffer: &str| {
            let Command::Watch(args) = parse(&[
                "watch",
                "c",
                "--key",
                "k",
                "--config",
                "/dev/null",
                "--json",
                "--node",
                "a=ws://127.0.0.1:1",
                "--node",
                "b=ws://127.0.0.1:2",
                "--max-buffer",
                buffer,
            ]) else {
                panic!()
            };
            WatchPlan::from_args(*args)
        };
        let plan = watch("8MiB").unwrap();
        let shares: Vec<usize> = plan
            .connections
            .iter()
            .map(|c| c.client.queue_bytes)
            .collect();
        assert_eq!(shares, [4 << 20, 4 << 20]);
        let e = watch("100KiB").err().unwrap();
        assert!(e.downcast_ref::<connections::UsageError>().is_some(), "{e}");
    }

    #[test]
    fn watch_all_joins_as_an_observer_unless_a_user_id_is_given() {
        let all = [
            "watch", "--all", "--key", "k", "--secret", "s", "--app-id", "1",
        ];
        let plan = |extra: &[&str]| {
            let args: Vec<&str> = all.iter().chain(extra).copied().collect();
            let Command::Watch(args) = parse(&args) else {
                panic!()
            };
            WatchPlan::from_args(*args).unwrap()
        };
        let p = plan(&["--config", "/dev/null", "--no-presence"]);
        let c = p.connections.into_iter().next().unwrap();
        assert!(c.client.user.id.starts_with(defaults::OBSERVER_PREFIX));
        assert!(!c.discover.unwrap().presence);
        let p = plan(&["--config", "/dev/null", "--user-id", "ops"]);
        let c = p.connections.into_iter().next().unwrap();
        assert_eq!(c.client.user.id, "ops");
        assert!(c.discover.unwrap().presence);
    }
}
