//! `replay`'s plan: the recording, its pace, where to start, and the front end, which knows
//! the items are replayed.

use std::path::PathBuf;

use super::{DashboardPlan, FrontEnd, FrontPlan, read_bindings};
use crate::cli::ReplayArgs;
use crate::cli::duration::ReplayFrom;

pub struct ReplayPlan {
    pub file: PathBuf,
    /// Times real time; infinite with `--max`.
    pub speed: f64,
    pub from: Option<ReplayFrom>,
    pub front: FrontPlan,
}

impl ReplayPlan {
    pub fn from_args(args: ReplayArgs) -> anyhow::Result<ReplayPlan> {
        let speed = if args.max { f64::INFINITY } else { args.speed };
        anyhow::ensure!(speed > 0.0, "--speed must be above 0");
        let (bindings, _) = read_bindings(args.bindings, args.bindings_file.as_deref())?;
        Ok(ReplayPlan {
            file: args.file,
            speed,
            from: args.from,
            front: FrontPlan {
                end: FrontEnd::choose(args.json, false, FrontEnd::Lines),
                json_status: args.json_status,
                ts_field: args.ts_field,
                replayed: true,
                filter: args.where_,
                dashboard: DashboardPlan {
                    bindings,
                    ascii: args.ascii,
                    // The screen's keys: the default config file's `[keys]`.
                    keys: crate::cli::config_file::load(None)?.0.keys.0,
                    ..DashboardPlan::default()
                },
                ..FrontPlan::default()
            },
        })
    }
}
