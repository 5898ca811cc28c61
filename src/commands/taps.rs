//! The observers of `watch` and `replay`, each a tap of the run's pipeline: the recording
//! (`--record`), the metrics (`--metrics`), the summary (`--summary`) and, without a
//! screen (which judges them on its own), the expectations.

use std::io::BufWriter;
use std::path::Path;

use anyhow::Context;

use super::expectations::Alarm;
use crate::cli::plan::{FrontEnd, FrontPlan};
use client::Labels;
use observe::metrics::watch::Observer;
use observe::output::summary::Summary;
use observe::pipeline::{Feeds, Tap};
use observe::recording::Recording;

/// The observers of a run, each a tap of its pipeline.
pub(super) struct Taps {
    recording: Option<Recording<BufWriter<std::fs::File>>>,
    metrics: Option<Observer>,
    pub(super) summary: Option<Summary>,
    alarm: Option<Alarm>,
}

impl Taps {
    /// The taps `front` asks for; the expectations read each engine's link of `feeds`.
    pub(super) async fn new(
        front: &FrontPlan,
        labels: &Labels,
        record: Option<&Path>,
        feeds: &Feeds,
    ) -> anyhow::Result<Taps> {
        let recording = match record {
            Some(path) => {
                let file = std::fs::File::create(path)
                    .with_context(|| format!("cannot create the recording {}", path.display()))?;
                Some(Recording::new(BufWriter::new(file), labels.clone()))
            }
            None => None,
        };
        let metrics = match front.metrics {
            Some(addr) => {
                let m = Observer::serve(addr, labels).await?;
                if let (Some(addr), false) = (m.addr(), front.json_status) {
                    say!("metrics on http://{addr}/metrics");
                }
                Some(m)
            }
            None => None,
        };
        // The dashboard judges the expectations and counts on its own screen.
        let headless = front.end != FrontEnd::Screen;
        Ok(Taps {
            recording,
            metrics,
            summary: (front.end == FrontEnd::Summary)
                .then(|| Summary::new(std::time::Instant::now())),
            alarm: headless
                .then(|| Alarm::new(front, labels.clone(), feeds.links()))
                .flatten(),
        })
    }

    pub(super) fn all(&mut self) -> Vec<&mut dyn Tap> {
        let mut all: Vec<&mut dyn Tap> = Vec::new();
        if let Some(t) = &mut self.recording {
            all.push(t);
        }
        if let Some(t) = &mut self.metrics {
            all.push(t);
        }
        if let Some(t) = &mut self.summary {
            all.push(t);
        }
        if let Some(t) = &mut self.alarm {
            all.push(t);
        }
        all
    }
}
