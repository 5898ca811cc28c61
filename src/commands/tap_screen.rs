//! `tap`'s screen on the terminal: the kit's tap screen, fed the source's items on its
//! bounded queue. `q`, Ctrl-C or a signal (SIGINT, SIGTERM, SIGHUP) ends it, and so do
//! `--timeout` and `--count`; the terminal is restored either way.

use std::sync::Arc;
use std::time::Instant;

use crate::cli::tap::TapPlan;
use observe::backplane::Lost;
use observe::backplane::TapItem;
use tui::kit::{App, RunOptions, Theme};
use tui::tap::Tap;

/// Most frames in any one second.
const FPS: u32 = 10;

/// Shows the backplane until the screen is quit; whether Redis was ever reached.
pub(super) async fn show(
    plan: &TapPlan,
    items: bounded::Receiver<TapItem>,
    lost: &Arc<Lost>,
) -> anyhow::Result<bool> {
    // Installed before the terminal is set up: a signal from here on ends it cleanly.
    let signals = crate::signals::Signals::with_hangup();
    let stop = async move {
        signals.wait().await;
    };
    let screen = Tap::new(
        plan.source.shown().to_owned(),
        plan.server,
        plan.filter.clone(),
        Instant::now(),
    )
    .with_lost(Arc::clone(lost));
    let screen = if plan.source.counted() {
        screen
    } else {
        screen.without_cluster_count()
    };
    // Served beside the screen, as `watch` serves its own: the same counts as with --json.
    let screen = match plan.metrics {
        Some(addr) => {
            let m =
                observe::backplane::metrics::Metrics::serve(addr, plan.source.counted()).await?;
            if let Some(addr) = m.addr() {
                say!("metrics on http://{addr}/metrics");
            }
            screen.with_metrics(m)
        }
        None => screen,
    };
    let app = App::new(screen, plan.keys.keymap(), Theme::new(plan.color, false));
    let options = RunOptions {
        fps: FPS,
        mouse: false,
        timeout: plan.timeout,
    };
    let ended = tui::kit::run(app, items, stop, options).await?;
    Ok(ended.app.screen.ever_up)
}
