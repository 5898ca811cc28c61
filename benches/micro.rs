//! Micro-benchmarks (divan): the hot paths under the figures of bench/run.sh.
//! `cargo bench --bench micro`

use std::time::{Duration, Instant, SystemTime};

use client::{ConnectionState, Item, ReceivedEvent, StateChange, SubscriptionStatus};
use observe::binding::Bindings;
use protocol::rest::{sign_request, verify_request};
use protocol::{Data, ServerMessage};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use serde_json::json;
use tui::testing::Dash as State;
use tui::watch::Options;

fn main() {
    divan::main();
}

const FRAME: &str = r#"{"event":"update_event","channel":"stock_ticker","data":"{\"name\":\"ACME\",\"price\":42.17}"}"#;

#[divan::bench]
fn frame_decode() -> ServerMessage {
    ServerMessage::decode(divan::black_box(FRAME)).unwrap()
}

#[divan::bench]
fn ndjson_encode_event(bencher: divan::Bencher) {
    let ev = received(7, 3);
    let mut out = Vec::with_capacity(256);
    bencher.bench_local(|| {
        out.clear();
        observe::output::ndjson::write_event(&mut out, divan::black_box(&ev), None).unwrap();
    });
}

const BODY: &[u8] = br#"{"name":"update_event","channels":["stock_ticker"],"data":"{\"name\":\"ACME\",\"price\":42.17}"}"#;

#[divan::bench]
fn rest_sign() -> Vec<(String, String)> {
    sign_request(
        "app-key",
        "app-secret",
        "POST",
        "/apps/1/events",
        &[],
        BODY,
        1_795_000_000,
    )
    .unwrap()
}

#[divan::bench]
fn rest_verify(bencher: divan::Bencher) {
    let signed = sign_request(
        "app-key",
        "app-secret",
        "POST",
        "/apps/1/events",
        &[],
        BODY,
        1_795_000_000,
    )
    .unwrap();
    bencher.bench_local(|| {
        verify_request(
            "app-key",
            "app-secret",
            "POST",
            "/apps/1/events",
            divan::black_box(&signed),
            BODY,
            1_795_000_000,
        )
        .unwrap()
    });
}

fn received(key: usize, step: usize) -> ReceivedEvent {
    ReceivedEvent::decoded(
        SystemTime::UNIX_EPOCH + Duration::from_secs(1_795_000_000 + step as u64),
        Some("stock_ticker".into()),
        "update_event".into(),
        Data::Json(
            json!({"name": format!("K{key:03}"), "price": 10.0 + (key * 7 + step) as f64 / 10.0}),
        ),
        None,
        FRAME,
    )
}

/// 500 ticker rows with history, and a full log of 10 000 lines.
fn busy_state(t0: Instant) -> State {
    let mut s = tui::testing::state(Options::default(), Bindings::seed(), t0);
    s.apply(
        Item::State(Box::new(StateChange {
            previous: ConnectionState::Connecting,
            current: ConnectionState::Connected,
            reason: None,
            retry_in: None,
            socket_id: Some("1.1".into()),
            url: "ws://127.0.0.1:6001/app/app-key".into(),
        })),
        t0,
    );
    s.apply(
        Item::Subscription {
            channel: "stock_ticker".into(),
            status: Box::new(SubscriptionStatus::Subscribed),
        },
        t0,
    );
    for step in 0..20 {
        for key in 0..500 {
            s.apply(
                Item::from(received(key, step)),
                t0 + Duration::from_millis(step as u64 * 100),
            );
        }
    }
    s
}

#[divan::bench]
fn dashboard_render_120x40_500_rows(bencher: divan::Bencher) {
    let t0 = Instant::now();
    let state = busy_state(t0);
    let mut terminal = Terminal::new(TestBackend::new(120, 40)).unwrap();
    bencher.bench_local(|| {
        terminal
            .draw(|f| state.app.draw(f, t0 + Duration::from_secs(3)))
            .unwrap();
    });
}

#[divan::bench]
fn dashboard_apply_event(bencher: divan::Bencher) {
    let t0 = Instant::now();
    let mut state = busy_state(t0);
    let mut i = 0;
    bencher.bench_local(|| {
        i += 1;
        state.apply(Item::from(received(i % 500, i)), t0);
    });
}

/// A disconnect in an app with `others` occupied channels: it costs the leaving socket's own
/// channels (here 3), whatever the app holds.
#[divan::bench(args = [100, 50_000])]
fn hub_disconnect(bencher: divan::Bencher, others: usize) {
    use server::HubLimits;
    use server::testing::{ConnHandle, Hub, QueueLimits, send_queue};
    let hub = Hub::new(["1"], HubLimits::default());
    let handle = || {
        let (frames, rx) = send_queue(QueueLimits {
            frames: 16,
            bytes: 1 << 20,
        });
        let (kick, kick_rx) = tokio::sync::mpsc::channel(1);
        (ConnHandle { frames, kick }, rx, kick_rx)
    };
    let mut keep = Vec::new();
    for i in 0..others {
        let (h, rx, k) = handle();
        let id = format!("{i}.1");
        hub.register("1", &id, h);
        hub.subscribe("1", &id, &format!("other-{i}"), None)
            .unwrap();
        keep.push((rx, k));
    }
    bencher.bench_local(|| {
        let (h, _rx, _k) = handle();
        hub.register("1", "9.9", h);
        for c in ["a", "b", "c"] {
            hub.subscribe("1", "9.9", c, None).unwrap();
        }
        hub.unregister("1", "9.9");
    });
}
