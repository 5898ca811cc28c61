//! The observers of `watch` and `replay`, each a tap of the run's pipeline: the recording
//! (`--record`), the metrics (`--metrics`), the summary (`--summary`) and, without a
//! screen (which judges them on its own), the expectations.

use std::fs::{File, OpenOptions};
use std::io::BufWriter;
use std::os::unix::fs::{FileTypeExt, OpenOptionsExt};
use std::path::Path;
use std::time::Duration;

use anyhow::Context;
use rustix::fs::{OFlags, fcntl_getfl, fcntl_setfl};
use rustix::io::Errno;

use super::expectations::Alarm;
use crate::cli::plan::{FrontEnd, FrontPlan};
use crate::signals::Signals;
use client::Labels;
use observe::metrics::watch::Observer;
use observe::output::summary::Summary;
use observe::pipeline::{Feeds, Tap};
use observe::recording::Recording;

/// The observers of a run, each a tap of its pipeline.
pub(super) struct Taps {
    recording: Option<Recording<BufWriter<File>>>,
    metrics: Option<Observer>,
    pub(super) summary: Option<Summary>,
    alarm: Option<Alarm>,
}

/// How often a `--record` FIFO is tried again while nobody reads it.
const FIFO_RETRY: Duration = Duration::from_millis(100);

/// How opening `--record FILE` ended.
pub(super) enum Opened {
    File(File),
    /// A FIFO nobody opened for reading before `--timeout` (it was said why).
    TimedOut,
    /// A signal came while waiting for a FIFO's reader.
    Interrupted,
}

/// Opens `--record FILE` before anything connects. A regular file is created. A FIFO is
/// opened without blocking: while nobody has it open for reading, that is said once on
/// stderr and tried again every 100 ms until a reader comes, `deadline` (`--timeout`)
/// passes, or SIGINT/SIGTERM come. Once open, writes block as on any file.
pub(super) async fn open_recording(
    path: &Path,
    deadline: Option<tokio::time::Instant>,
) -> anyhow::Result<Opened> {
    let shown = || protocol::safe_text::terminal_safe(&path.display().to_string()).into_owned();
    let fifo = std::fs::metadata(path).is_ok_and(|m| m.file_type().is_fifo());
    if !fifo {
        let file = File::create(path)
            .with_context(|| format!("cannot create the recording {}", shown()))?;
        return Ok(Opened::File(file));
    }
    let mut signals = Signals::install();
    let mut said = false;
    loop {
        match OpenOptions::new()
            .write(true)
            .custom_flags(OFlags::NONBLOCK.bits() as i32)
            .open(path)
        {
            Ok(file) => {
                let flags = fcntl_getfl(&file).context("--record")?;
                fcntl_setfl(&file, flags - OFlags::NONBLOCK).context("--record")?;
                if said {
                    say!("the FIFO {} has a reader: recording", shown());
                }
                return Ok(Opened::File(file));
            }
            Err(e) if e.raw_os_error() == Some(Errno::NXIO.raw_os_error()) => {}
            Err(e) => {
                return Err(e).with_context(|| format!("cannot open the recording {}", shown()));
            }
        }
        if !said {
            said = true;
            say!(
                "waiting for a reader of the FIFO {} (--record): nothing connects until \
                 one opens it",
                shown()
            );
        }
        let retry = tokio::time::Instant::now() + FIFO_RETRY;
        let until = deadline.map_or(retry, |d| d.min(retry));
        tokio::select! {
            _ = signals.next() => return Ok(Opened::Interrupted),
            () = tokio::time::sleep_until(until) => {}
        }
        if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
            say!(
                "no reader opened the FIFO {} within --timeout: nothing was recorded",
                shown()
            );
            return Ok(Opened::TimedOut);
        }
    }
}

impl Taps {
    /// The taps `front` asks for; the expectations read each engine's link of `feeds`.
    /// `record` is the recording's file, already open ([`open_recording`]).
    pub(super) async fn new(
        front: &FrontPlan,
        labels: &Labels,
        record: Option<File>,
        feeds: &Feeds,
    ) -> anyhow::Result<Taps> {
        let recording = record.map(|file| Recording::new(BufWriter::new(file), labels.clone()));
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
