//! The watch screen's model stays bounded in bytes whatever a stranger sends: 3000 events,
//! each on a channel and with an event name of its own a megabyte long (and presence
//! members with megabyte ids and infos), and every map and the log ring report what they
//! weigh, each within its cap, what did not fit counted.

use std::time::{Duration, Instant};

use client::{Item, MemberChange};
use observe::binding::Bindings;
use protocol::frame::Member;
use serde_json::json;
use tui::watch::Options;

use crate::support::dashboard::{connected, event, render, state, subscribed};

const MIB: usize = 1 << 20;

#[test]
fn three_thousand_megabyte_names_leave_the_model_bounded() {
    let t0 = Instant::now();
    let options = Options::default();
    let mut s = state(options.clone(), Bindings::seed(), t0).with_ts("ts");
    s.apply(connected(), t0);
    let mut heaviest = 0;
    let megabyte = "x".repeat(MIB);
    for n in 0..3000u64 {
        let at = t0 + Duration::from_millis(n);
        // A megabyte of name, different from the first character on.
        let name = |what: &str| {
            let mut name = String::with_capacity(MIB + 8);
            name.push_str(&format!("{n:05}{what}"));
            name.push_str(&megabyte);
            name
        };
        let channel = name("c");
        if n % 100 == 0 {
            s.apply(subscribed(&channel), at);
            let member = Member {
                user_id: name("u"),
                user_info: json!({ "bio": name("i") }),
            };
            s.apply(
                Item::Members {
                    channel: channel.clone(),
                    change: Box::new(MemberChange::Added(member)),
                    count: 1,
                },
                at,
            );
        }
        let ts = 1_795_000_000_000u64 + n;
        s.apply(event(&channel, &name("e"), json!({ "ts": ts }), 0), at);
        heaviest = heaviest.max(s.model.weights().total());
    }
    let model = &s.model;
    let w = model.weights();
    // Each part within its cap, whatever came.
    assert!(w.log <= options.log_bytes, "log {}", w.log);
    // The log's lines share their events: what those hold is in the log's weight.
    let held: usize = model
        .log
        .iter()
        .filter_map(|l| l.line.received())
        .map(|ev| ev.event.len() + ev.channel.as_deref().map_or(0, str::len))
        .sum();
    assert!(
        held <= w.log,
        "the lines hold {held} bytes, weighed {}",
        w.log
    );
    assert!(w.counts <= MIB, "counts {}", w.counts);
    assert!(w.latency <= 8 * MIB, "latency {}", w.latency);
    assert!(w.hints <= MIB, "hints {}", w.hints);
    assert!(w.members <= 8 * MIB, "members {}", w.members);
    assert!(w.silence <= MIB, "silence {}", w.silence);
    assert!(w.channels <= 4 * MIB, "channels {}", w.channels);
    assert!(w.ticker <= MIB, "ticker {}", w.ticker);
    // 3000 × 2 MB came; the model never held more than its caps together.
    assert!(
        heaviest <= 40 * MIB,
        "the model weighed {heaviest} bytes at most"
    );
    // What did not fit is counted, for the panes to say.
    assert!(model.log.dropped() > 2900, "{}", model.log.dropped());
    assert!(model.uncounted() > 0);
    // The names kept are cut.
    assert!(
        model
            .counts
            .keys()
            .all(|k| k.channel.chars().count() <= 200 && k.event.chars().count() <= 200)
    );
    let mut members = model.members.values().flat_map(|m| m.iter());
    assert!(members.all(|(id, info)| id.chars().count() <= 200 && info.len() <= 1100));
    // And it still draws, at 80×24 and wider, saying what it dropped.
    let now = t0 + Duration::from_secs(4);
    let screen = render(&s, now, 80, 24).backend().to_string();
    assert!(screen.contains(" dropped"), "{screen}");
    let wide = render(&s, now, 200, 50).backend().to_string();
    assert!(wide.contains("not counted"), "{wide}");
    assert!(model.names_not_kept() > 0);
    assert!(wide.contains(" names not kept"), "{wide}");
}
