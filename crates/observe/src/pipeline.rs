//! The pipeline: N engines feed one tagged stream of [`Observed`] items, and every observer
//! (recorder, metrics, expectations, summary, the probe's model) is a [`Tap`] that sees each
//! item once, its latency computed once, before the front end (lines, NDJSON, a screen)
//! takes it.
//!
//! - **One fan-in.** [`Feeds`] gives each connection's engine a feed of its own
//!   ([`Feeds::connect`]) and takes them in turn ([`bounded::FanIn`]), for `watch`, `probe`
//!   and `check` alike; a replay is one more feed ([`Feeds::feed`]).
//! - **Fairness.** Each feed has its own budget (`--max-buffer` split between the
//!   connections): a flood on one connection fills its own feed, and its engine drops and
//!   counts its own events, while the others' items keep their turn. Each connection's
//!   state also has a path of its own ([`client::Client::link`], kept in [`Feeds::links`]),
//!   which the expectations read on their tick: a state change never waits behind items.
//! - **The run.** [`run`] takes items while the front end has room and gives the taps the
//!   time on every tick whatever the front end does: a slow stdout never stops the
//!   expectations from judging. A screen's front end is [`to_screen`]'s queue.

use std::future::Future;
use std::time::{Duration, Instant};

use bounded::{Cause, FanIn, Held, Limits, Overflow, TrySendError, Weigh};
use client::{Client, ClientConfig, ClientError, Conn, FeedTx, Item, Link, Tagged};
use tokio::sync::watch;

use crate::field_path::FieldPath;
use crate::latency::latency_ms;

/// One item from one connection, as every tap sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct Observed {
    /// Which connection it came from: an index into the run's labels.
    pub conn: Conn,
    pub item: Item,
    /// Publish-to-receive latency in milliseconds, when `--ts-field` says where the
    /// publish time is and the event carries it. Computed once, here.
    pub latency_ms: Option<f64>,
}

impl Observed {
    /// `item` from `conn`, its latency read from `ts_field` (the one place it is computed).
    pub fn new(conn: Conn, item: Item, ts_field: Option<&FieldPath>) -> Observed {
        let latency_ms = match (&item, ts_field) {
            (Item::Event(ev), Some(path)) => {
                latency_ms(&ev.data().as_value(), path.pointer(), ev.received_at)
            }
            _ => None,
        };
        Observed {
            conn,
            item,
            latency_ms,
        }
    }
}

impl Weigh for Observed {
    fn weight(&self) -> usize {
        self.item.weight() + size_of::<Conn>() + size_of::<Option<f64>>()
    }
}

/// Most items taken in a row before the run looks at the time and the signals again.
const BATCH: usize = 256;

/// Most items taken from a feed at once (under one lock, their room given back with one
/// wake-up of the engine), when there is one feed: with several, they are taken one at a
/// time, in turn. Until the last of them is handed on they still weigh against the feed's
/// budget.
const TAKE: usize = 64;

/// How often the taps are given the time, by default: an expectation broken by time alone
/// (a connection down past its grace) is said at most this late.
pub const TICK: Duration = Duration::from_millis(250);

/// Every source of items of a run, each on a feed of its own, taken in turn.
pub struct Feeds {
    fan: FanIn<Tagged>,
    /// Items taken and not yet handed on, the next one last, and the feed they came from.
    taken: Option<(usize, Held<Vec<Tagged>>)>,
    links: Vec<(Conn, watch::Receiver<Link>)>,
    ts_field: Option<FieldPath>,
}

impl Feeds {
    /// No feed yet; events' latency is read from `ts_field`.
    pub fn new(ts_field: Option<FieldPath>) -> Feeds {
        Feeds {
            fan: FanIn::new(),
            taken: None,
            links: Vec::new(),
            ts_field,
        }
    }

    /// A feed of its own for the next source, of at most `limits`; its items are tagged
    /// with its index. (A source that is not an engine: a replay.)
    pub fn feed(&mut self, limits: Limits) -> FeedTx {
        let conn = Conn::try_from(self.fan.len()).unwrap_or(Conn::MAX);
        FeedTx::new(self.fan.add(limits, Overflow::Block), conn)
    }

    /// Starts an engine on a feed of its own, sized by `config`'s queue limits. Its handle,
    /// and a sender into its feed for its helpers (`--all`'s discovery).
    pub fn connect(
        &mut self,
        config: ClientConfig,
        channels: &[String],
    ) -> Result<(Client, FeedTx), ClientError> {
        let tx = self.feed(Limits::new(config.queue_capacity, config.queue_bytes));
        let client = client::connect_into(config, channels, tx.clone())?;
        self.links.push((tx.conn(), client.link()));
        Ok((client, tx))
    }

    /// Each engine's link: its state now, on a path items never hold up.
    pub fn links(&self) -> Vec<(Conn, watch::Receiver<Link>)> {
        self.links.clone()
    }

    /// The next item in turn; `None` once every source has ended. Cancel-safe.
    pub async fn next(&mut self) -> Option<Observed> {
        if self.taken.is_none() {
            let (feed, batch) = self.fan.recv_batch(TAKE).await?;
            self.hold(feed, batch);
        }
        self.next_taken()
    }

    /// The next item in turn, if one waits.
    pub fn try_next(&mut self) -> Option<Observed> {
        if self.taken.is_none() {
            let (feed, batch) = self.fan.try_recv_batch(TAKE).ok()?;
            self.hold(feed, batch);
        }
        self.next_taken()
    }

    fn hold(&mut self, feed: usize, mut batch: Held<Vec<Tagged>>) {
        batch.reverse();
        self.taken = Some((feed, batch));
    }

    /// The next of the items taken; the batch's room goes back to its feed with its last,
    /// and its vector, for the feed's next batch.
    fn next_taken(&mut self) -> Option<Observed> {
        let (_, batch) = self.taken.as_mut()?;
        let next = batch.pop();
        if batch.is_empty()
            && let Some((feed, batch)) = self.taken.take()
        {
            self.fan.recycle(feed, batch.into_inner());
        }
        let (conn, item) = next?;
        Some(Observed::new(conn, item, self.ts_field.as_ref()))
    }

    /// Nothing waits in any feed.
    pub fn is_idle(&self) -> bool {
        self.taken.is_none() && self.fan.is_idle()
    }

    /// Takes everything that waits, for at most `within`, and shows it to the taps only:
    /// at the end, so that engines closing their sockets are not held up by a full feed,
    /// and what came before the end is still recorded and counted.
    pub async fn drain(&mut self, taps: &mut [&mut dyn Tap], within: Duration) {
        let _ = tokio::time::timeout(within, async {
            while let Some(o) = self.next().await {
                for tap in taps.iter_mut() {
                    let _ = tap.observe(&o);
                }
            }
        })
        .await;
    }
}

/// An observer of every item: it sees each one, in order, before the front end does.
pub trait Tap: Send {
    /// One item. What it returns is something to show the user, as an item of the same
    /// connection (a recorder says it stopped).
    fn observe(&mut self, o: &Observed) -> Option<Item>;

    /// The time, about once a [`TICK`], whatever the front end is doing: what only time can
    /// break (a silence, a connection down past its grace) is judged here.
    fn tick(&mut self, _now: Instant) {}
}

/// How a run ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum End {
    /// A normal end: `--count`, `--timeout`, a quit, the end of a replay, a closed stdout.
    Done,
    /// Ctrl-C, SIGTERM or SIGHUP: what is still to write gets only a moment.
    Interrupted,
    /// The run failed: the exit status and why.
    Fail(u8, String),
}

/// Where the items go after the taps: lines on stdout, or a screen's queue. It may be slow.
pub trait Front {
    /// Takes one item; `Some` ends the run.
    fn take(&mut self, o: Observed) -> Option<End>;

    /// It can take another item now.
    fn ready(&self) -> bool;

    /// Resolves when it is ready again (`None`), or with how the run ends when the front
    /// end is gone (stdout closed, the screen quit). Cancel-safe.
    fn wait(&mut self) -> impl Future<Output = Option<End>>;

    /// Nothing more waits for now: hand on what is buffered. `Some` ends the run.
    fn idle(&mut self) -> Option<End>;

    /// Every source has ended.
    fn sources_ended(&mut self) -> End;
}

/// Runs until `stop` resolves, the front end ends the run, or every source has ended.
/// Items are taken in turn while the front end has room; the taps see each one first, and
/// get the time every `tick` in any case.
pub async fn run<F: Front>(
    feeds: &mut Feeds,
    taps: &mut [&mut dyn Tap],
    front: &mut F,
    stop: impl Future<Output = End>,
    tick: Duration,
) -> End {
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tokio::pin!(stop);
    loop {
        tokio::select! {
            biased;
            end = &mut stop => return end,
            _ = ticker.tick() => {
                let now = Instant::now();
                taps.iter_mut().for_each(|t| t.tick(now));
            }
            end = front.wait() => {
                if let Some(end) = end {
                    return end;
                }
            }
            o = feeds.next(), if front.ready() => {
                let Some(o) = o else {
                    return front.sources_ended();
                };
                // What is already queued is taken without another turn of the select.
                let mut next = Some(o);
                let mut taken = 0;
                while let Some(o) = next.take() {
                    if let Some(end) = pass(o, taps, front) {
                        return end;
                    }
                    taken += 1;
                    if taken < BATCH && front.ready() {
                        next = feeds.try_next();
                    }
                }
                // Handed on once the feeds are drained: lines never wait, and bursts cost
                // one write.
                if feeds.is_idle()
                    && let Some(end) = front.idle()
                {
                    return end;
                }
            }
        }
    }
}

/// A screen's end of the pipeline: the items go into a bounded queue the screen reads
/// ([`bounded::Receiver<Observed>`]). When it is full the run waits (its feeds fill, and
/// their engines drop and count events, while the taps still get the time); when the
/// screen has quit (the receiver is gone), the run ends.
pub struct ToScreen {
    tx: bounded::Sender<Observed>,
    pending: Option<Observed>,
}

/// A screen's queue of at most `limits`, and the front end that fills it.
pub fn to_screen(limits: Limits) -> (ToScreen, bounded::Receiver<Observed>) {
    let (tx, rx) = bounded::queue(limits, Overflow::Block);
    (ToScreen { tx, pending: None }, rx)
}

impl ToScreen {
    fn send(&mut self, o: Observed) -> Option<End> {
        match self.tx.try_send(o) {
            Ok(()) => None,
            Err(TrySendError::Full(o, Cause::Oversize)) => {
                // Never fits: the screen is told so, in its place.
                let note = format!(
                    "an item of {} bytes is larger than the screen's queue: not shown",
                    o.weight()
                );
                self.pending = Some(Observed::new(o.conn, Item::Error(note), None));
                None
            }
            Err(TrySendError::Full(o, _)) => {
                self.pending = Some(o);
                None
            }
            Err(TrySendError::Closed(_)) => Some(End::Done),
        }
    }
}

impl Front for ToScreen {
    fn take(&mut self, o: Observed) -> Option<End> {
        self.send(o)
    }

    fn ready(&self) -> bool {
        self.pending.is_none()
    }

    async fn wait(&mut self) -> Option<End> {
        let Some(weight) = self.pending.as_ref().map(Weigh::weight) else {
            self.tx.closed().await;
            return Some(End::Done);
        };
        if !self.tx.room_for(weight).await {
            return Some(End::Done);
        }
        let o = self.pending.take()?;
        self.send(o)
    }

    fn idle(&mut self) -> Option<End> {
        None
    }

    fn sources_ended(&mut self) -> End {
        End::Done
    }
}

/// One item through the taps, then to the front end (with what the taps had to say).
fn pass<F: Front>(o: Observed, taps: &mut [&mut dyn Tap], front: &mut F) -> Option<End> {
    // Taps rarely say anything: no vector is made until one does.
    let mut said = Vec::new();
    for tap in taps.iter_mut() {
        if let Some(item) = tap.observe(&o) {
            said.push(item);
        }
    }
    let conn = o.conn;
    if let Some(end) = front.take(o) {
        return Some(end);
    }
    if said.is_empty() {
        return None;
    }
    said.into_iter().find_map(|item| {
        front.take(Observed {
            conn,
            item,
            latency_ms: None,
        })
    })
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use super::*;

    /// A front end that takes `room` items, then waits until the test gives it more.
    struct Slow {
        taken: Vec<Observed>,
        room: usize,
        more: tokio::sync::mpsc::Receiver<usize>,
    }

    impl Front for Slow {
        fn take(&mut self, o: Observed) -> Option<End> {
            self.room -= 1;
            self.taken.push(o);
            None
        }
        fn ready(&self) -> bool {
            self.room > 0
        }
        async fn wait(&mut self) -> Option<End> {
            match self.more.recv().await {
                Some(n) => {
                    self.room += n;
                    None
                }
                None => std::future::pending().await,
            }
        }
        fn idle(&mut self) -> Option<End> {
            None
        }
        fn sources_ended(&mut self) -> End {
            End::Done
        }
    }

    /// Counts items and ticks.
    #[derive(Default)]
    struct Count {
        items: usize,
        ticks: usize,
    }

    impl Tap for Count {
        fn observe(&mut self, _: &Observed) -> Option<Item> {
            self.items += 1;
            None
        }
        fn tick(&mut self, _: Instant) {
            self.ticks += 1;
        }
    }

    fn error(n: usize) -> Item {
        Item::Error("x".repeat(n))
    }

    #[tokio::test]
    async fn a_stalled_front_end_stops_the_items_but_not_the_ticks() {
        let mut feeds = Feeds::new(None);
        let tx = feeds.feed(Limits::new(100, 1 << 20));
        for n in 0..10 {
            tx.try_send(error(n)).unwrap();
        }
        let (more_tx, more) = tokio::sync::mpsc::channel(1);
        let mut front = Slow {
            taken: Vec::new(),
            room: 3,
            more,
        };
        let mut count = Count::default();
        let stop = tokio::time::sleep(Duration::from_millis(120));
        let end = run(
            &mut feeds,
            &mut [&mut count],
            &mut front,
            async {
                stop.await;
                End::Interrupted
            },
            Duration::from_millis(10),
        )
        .await;
        assert_eq!(end, End::Interrupted);
        assert_eq!((front.taken.len(), count.items), (3, 3));
        assert!(count.ticks >= 5, "ticks went on: {}", count.ticks);
        more_tx.send(100).await.unwrap();
        drop(tx);
        let end = run(
            &mut feeds,
            &mut [&mut count],
            &mut front,
            std::future::pending(),
            TICK,
        )
        .await;
        assert_eq!((end, front.taken.len()), (End::Done, 10));
    }

    #[tokio::test]
    async fn sources_are_taken_in_turn_and_tagged() {
        let mut feeds = Feeds::new(None);
        let flood = feeds.feed(Limits::new(100, 1 << 20));
        let quiet = feeds.feed(Limits::new(100, 1 << 20));
        for n in 0..20 {
            flood.try_send(error(n)).unwrap();
        }
        quiet.try_send(error(1)).unwrap();
        let mut order = VecDeque::new();
        for _ in 0..3 {
            order.push_back(feeds.next().await.unwrap().conn);
        }
        assert_eq!(order, [0, 1, 0]);
    }

    #[tokio::test]
    async fn one_feed_is_taken_in_batches_that_weigh_until_handed_on() {
        let mut feeds = Feeds::new(None);
        let tx = feeds.feed(Limits::new(TAKE + 10, 1 << 20));
        for n in 0..TAKE + 10 {
            tx.try_send(error(n)).unwrap();
        }
        assert_eq!(feeds.next().await.unwrap().item, error(0));
        // A batch was taken at once, and it still counts against the feed's budget.
        assert!(
            tx.try_send(error(0)).is_err(),
            "the batch taken still weighs"
        );
        for n in 1..TAKE {
            assert_eq!(feeds.try_next().unwrap().item, error(n), "in order");
        }
        // Its room came back with its last item.
        for n in 0..TAKE {
            tx.try_send(error(n)).unwrap();
        }
        assert_eq!(feeds.next().await.unwrap().item, error(TAKE));
    }

    /// An item is moved from batch to tap to front end: at 128 bytes or less, a move is
    /// a few instructions rather than a call to memcpy.
    #[test]
    fn an_observed_item_moves_without_a_copy_call() {
        assert!(
            size_of::<Observed>() <= 128,
            "{} bytes",
            size_of::<Observed>()
        );
    }

    #[test]
    fn the_latency_is_read_once_from_the_field() {
        use client::ReceivedEvent;
        use protocol::Data;
        let now = std::time::SystemTime::now();
        let sent = now - Duration::from_millis(250);
        let ms = sent
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_millis();
        let ev = ReceivedEvent::decoded(
            now,
            Some("c".into()),
            "e".into(),
            Data::Json(serde_json::json!({ "ts": ms })),
            None,
            String::new(),
        );
        let path = FieldPath::parse("ts").unwrap();
        let o = Observed::new(0, Item::from(ev), Some(&path));
        assert!(
            o.latency_ms.is_some_and(|l| (l - 250.0).abs() < 2.0),
            "{o:?}"
        );
    }
}
