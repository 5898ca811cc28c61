use super::*;
use protocol::backplane::{Broadcast, Server, decode};

fn req(id: &str, node: &str, kind: &str) -> BackplaneMessage {
    BackplaneMessage::Request(Request {
        id: id.into(),
        node: Some(node.into()),
        request_type: kind.into(),
        ..Request::default()
    })
}

fn res(id: &str, node: &str) -> BackplaneMessage {
    BackplaneMessage::Response(Response {
        id: id.into(),
        node: Some(node.into()),
        ..Response::default()
    })
}

#[test]
fn requests_are_matched_to_their_answers() {
    let t0 = Instant::now();
    let mut c = Cluster::new();
    c.set_numsub(3, t0);
    c.apply(&req("r1", "a", "ChannelSocketsCount"), t0);
    assert!(c.pending.contains_key("r1"));
    c.apply(&res("r1", "b"), t0 + Duration::from_millis(2));
    assert!(c.pending.contains_key("r1"), "one of two answers");
    let notices = c.apply(&res("r1", "c"), t0 + Duration::from_millis(5));
    assert!(notices.iter().all(|n| !matches!(n, Notice::Incomplete(_))));
    let f = c.finished.back().unwrap();
    assert_eq!((f.answers, f.expected, f.timed_out), (2, Some(2), false));
    assert_eq!(f.round_trip, Some(Duration::from_millis(5)));
    // An answer to a request never seen is counted, not kept.
    c.apply(&res("nope", "b"), t0);
    assert_eq!(c.counts.unmatched, 1);
}

#[test]
fn a_node_that_does_not_answer_is_said() {
    let t0 = Instant::now();
    let mut c = Cluster::new();
    c.set_numsub(3, t0);
    c.apply(&req("r1", "a", "ChannelMembers"), t0);
    c.apply(&res("r1", "b"), t0);
    let mut notices = Vec::new();
    c.expire(t0 + REQUEST_TIMEOUT, &mut notices);
    let [Notice::Incomplete(f)] = notices.as_slice() else {
        panic!("{notices:?}");
    };
    assert_eq!((f.answers, f.expected, f.timed_out), (1, Some(2), true));
    assert!(notices[0].text().contains("1 of 2 answered"));
    // complete:false from sockudo finishes it at once.
    c.apply(&req("r2", "a", "ChannelMembers"), t0);
    let r = BackplaneMessage::Response(Response {
        id: "r2".into(),
        node: Some("b".into()),
        complete: Some(false),
        ..Response::default()
    });
    let notices = c.apply(&r, t0);
    assert!(
        notices.iter().any(|n| n.text().contains("complete:false")),
        "{notices:?}"
    );
}

#[test]
fn heartbeats_against_the_clusters_count() {
    let t0 = Instant::now();
    let mut c = Cluster::new();
    let seen = c.apply(&req("h1", "a", "Heartbeat"), t0);
    assert_eq!(seen, [Notice::NodeSeen("a".into())]);
    c.apply(&req("h2", "b", "Heartbeat"), t0);
    assert!(c.pending.is_empty(), "heartbeats wait for no answer");
    // Too early to judge: heartbeats have not all come yet.
    assert!(c.set_numsub(3, t0).is_empty());
    let later = t0 + HEARTBEAT_STALE / 2;
    let n = c.apply(&req("h3", "a", "Heartbeat"), later);
    assert_eq!(
        n,
        [Notice::CountsDiffer {
            numsub: 3,
            heartbeats: 2
        }]
    );
    assert!(c.apply(&req("h4", "b", "Heartbeat"), later).is_empty());
    assert!(c.set_numsub(3, later).is_empty(), "said once");
    assert_eq!(c.set_numsub(2, later), [Notice::CountsAgree(2)]);
    // A node whose heartbeats stop drops out of the heartbeats' count.
    assert_eq!(c.heartbeat_nodes(later + HEARTBEAT_STALE), 0);
}

#[test]
fn presence_replication_and_ghosts_of_a_dead_node() {
    let t0 = Instant::now();
    let mut c = Cluster::new();
    let joined = |node: &str, user: &str| {
        BackplaneMessage::Request(Request {
            id: format!("j-{user}"),
            node: Some(node.into()),
            request_type: "PresenceMemberJoined".into(),
            channel: Some("presence-room".into()),
            user_id: Some(user.into()),
            ..Request::default()
        })
    };
    c.apply(&joined("a", "u1"), t0);
    c.apply(&joined("b", "u2"), t0);
    c.apply(&joined("b", "u3"), t0);
    let left = BackplaneMessage::Request(Request {
        id: "l".into(),
        node: Some("b".into()),
        request_type: "PresenceMemberLeft".into(),
        channel: Some("presence-room".into()),
        user_id: Some("u3".into()),
        ..Request::default()
    });
    c.apply(&left, t0);
    assert_eq!(c.members.len(), 2);
    let dead = BackplaneMessage::Request(Request {
        id: "d".into(),
        node: Some("a".into()),
        request_type: "NodeDead".into(),
        dead_node: Some("b".into()),
        ..Request::default()
    });
    let n = c.apply(&dead, t0);
    assert!(n.contains(&Notice::NodeDead {
        node: "b".into(),
        by: Some("a".into())
    }));
    let orphans: Vec<_> = c.orphans().map(|(k, _)| k.1.clone()).collect();
    assert_eq!(orphans, ["u2"]);
}

#[test]
fn a_flood_of_names_stays_within_the_caps() {
    let t0 = Instant::now();
    let mut c = Cluster::new();
    for i in 0..20_000 {
        let b = BackplaneMessage::Broadcast(Broadcast {
            node: Some(format!("node-{i}")),
            channels: vec![format!("ch-{i}")],
            event: Some("e".repeat(150)),
            ..Broadcast::default()
        });
        c.apply(&b, t0);
        c.apply(&req(&format!("r{i}"), "a", "ChannelMembers"), t0);
    }
    assert!(c.nodes.len() <= NODES.items && c.nodes.bytes() <= NODES.bytes);
    assert!(c.rates.len() <= RATES.items && c.rates.bytes() <= RATES.bytes);
    assert!(c.pending.len() <= PENDING.items);
    assert!(c.rates.drops().total() > 0, "what did not fit is counted");
    assert_eq!(c.counts.broadcasts, 20_000);
}

#[test]
fn decoded_messages_feed_it() {
    let t0 = Instant::now();
    let mut c = Cluster::new();
    let m = decode(
        Server::Sockudo,
        "sockudo_adapter::#broadcast",
        br#"{"node_id":"n1","app_id":"a","channel":"chan1","message":"{\"event\":\"ev1\",\"data\":\"{}\"}","except_socket_id":null}"#,
    );
    c.apply(&m, t0);
    let r = c
        .rates
        .get(&("chan1".to_owned(), "ev1".to_owned()))
        .unwrap();
    assert_eq!(r.count, 1);
    assert_eq!(c.nodes.get("n1").unwrap().broadcasts, 1);
}

#[test]
fn latency_from_the_origins_timestamp() {
    let at = SystemTime::UNIX_EPOCH + Duration::from_millis(1_000_000);
    assert_eq!(latency_ms(Some(999_998.5), at), Some(1.5));
    assert_eq!(latency_ms(None, at), None);
    assert_eq!(latency_ms(Some(f64::NAN), at), None);
    assert_eq!(latency_ms(Some(-1e300), at), None);
}

fn presence_req(kind: &str, node: &str, channel: &str, user: &str) -> BackplaneMessage {
    BackplaneMessage::Request(Request {
        id: format!("{kind}-{node}-{user}"),
        node: Some(node.into()),
        request_type: kind.into(),
        channel: Some(channel.into()),
        user_id: Some(user.into()),
        ..Request::default()
    })
}

#[test]
fn presence_by_node_and_the_ghosts_of_a_gone_node() {
    let t0 = Instant::now();
    let mut c = Cluster::new();
    for node in ["a", "b", "c"] {
        c.apply(&req(&format!("hb-{node}"), node, "Heartbeat"), t0);
    }
    let joined = |node, user| presence_req("PresenceMemberJoined", node, "presence-room", user);
    c.apply(&joined("a", "u1"), t0);
    c.apply(&joined("b", "u1"), t0);
    c.apply(&joined("b", "u2"), t0);
    c.apply(&joined("c", "u3"), t0);
    c.apply(
        &presence_req("PresenceMemberJoined", "a", "presence-lobby", "u9"),
        t0,
    );
    // u1 leaves through a and is still on b: still a member.
    c.apply(
        &presence_req("PresenceMemberLeft", "a", "presence-room", "u1"),
        t0,
    );
    let p = c.presence(t0);
    let room = p.iter().find(|c| c.channel == "presence-room").unwrap();
    assert_eq!(room.users, 3, "u1 (on b), u2, u3");
    let by: Vec<_> = room
        .by_node
        .iter()
        .map(|v| (v.node.as_str(), v.members))
        .collect();
    assert_eq!(by, [("b", 2), ("c", 1)]);
    assert_eq!(room.ghosts, 0);

    // b is declared dead: its members stay in the live nodes' views, on no node.
    let dead = BackplaneMessage::Request(Request {
        id: "d".into(),
        node: Some("a".into()),
        request_type: "NodeDead".into(),
        dead_node: Some("b".into()),
        ..Request::default()
    });
    c.apply(&dead, t0 + Duration::from_secs(1));
    // c's heartbeats stop; a keeps beating.
    let later = t0 + HEARTBEAT_STALE + Duration::from_secs(1);
    c.apply(&req("hb-a2", "a", "Heartbeat"), later);
    let p = c.presence(later);
    assert_eq!(p[0].channel, "presence-room", "ghosts first");
    assert_eq!(p[0].ghosts, 3);
    assert_eq!(p[0].ghost_users, ["u1", "u2", "u3"]);
    assert!(p[0].by_node.iter().all(|v| v.gone));
    assert_eq!((p[1].channel.as_str(), p[1].ghosts), ("presence-lobby", 0));
    // A leave clears a ghost.
    c.apply(
        &presence_req("PresenceMemberLeft", "b", "presence-room", "u2"),
        later,
    );
    assert_eq!(c.presence(later)[0].ghost_users, ["u1", "u3"]);
}

#[test]
fn a_window_counts_the_last_whole_seconds() {
    let mut w = Window::default();
    assert_eq!(w.per_second(0), None, "no whole second yet");
    for _ in 0..5 {
        w.add(0);
    }
    w.add(1);
    assert_eq!(w.per_second(1), Some(5.0), "second 0 only");
    assert_eq!(w.per_second(2), Some(3.0), "5 and 1 over two seconds");
    // Twenty seconds on, a burst: the old seconds have left the window.
    for _ in 0..30 {
        w.add(20);
    }
    assert_eq!(w.per_second(20), Some(0.0), "second 20 is not over");
    assert_eq!(w.per_second(21), Some(3.0), "30 over the last 10 s");
    assert_eq!(w.per_second(31), Some(0.0), "and then gone");
    // A late message for a second already out of the ring is not counted anywhere.
    w.add(5);
    assert_eq!(w.per_second(21), Some(3.0));
}

#[test]
fn rates_by_channel_and_event() {
    let t0 = Instant::now();
    let mut c = Cluster::new();
    let b = |ch: &str| {
        BackplaneMessage::Broadcast(Broadcast {
            channels: vec![ch.into()],
            event: Some("tick".into()),
            ..Default::default()
        })
    };
    for i in 0..40u64 {
        c.apply(&b("fast"), t0 + Duration::from_millis(i * 100));
    }
    c.apply(&b("slow"), t0 + Duration::from_millis(500));
    let now = t0 + Duration::from_secs(4);
    let rate = |ch: &str| {
        c.rates
            .get(&(ch.to_owned(), "tick".to_owned()))
            .and_then(|r| r.window.per_second(c.second(now)))
    };
    assert_eq!(rate("fast"), Some(10.0));
    assert_eq!(rate("slow"), Some(0.25));
    assert_eq!(c.broadcast_rate(now), Some(10.25));
    // Quiet for a minute: the rate falls to 0, the count stays.
    let later = t0 + Duration::from_secs(60);
    assert_eq!(
        c.rates
            .get(&("fast".to_owned(), "tick".to_owned()))
            .map(|r| (r.count, r.window.per_second(c.second(later)))),
        Some((40, Some(0.0)))
    );
}
