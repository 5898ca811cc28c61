//! Names from the command line and from files are escaped where they go: a channel name in
//! the REST path, a recording's file name in a message on the terminal.

use std::time::Duration;

use crate::support::bin::{Proc, command};
use crate::support::server::{KEY, SECRET, Server};

async fn channels(server: &Server, name: &str) -> (i32, String, String) {
    let port = server.addr.port().to_string();
    let mut cmd = command();
    cmd.args(["channels", name, "--host", "127.0.0.1", "--port", &port])
        .args(["--key", KEY, "--secret", SECRET, "--app-id", "1"]);
    Proc::spawn(&mut cmd).finish(Duration::from_secs(10)).await
}

#[tokio::test]
async fn a_channel_name_is_one_escaped_path_segment() {
    let server = Server::start(&[]).await;
    // Escaped, the slashes stay inside the name: the server sees one (invalid) channel name,
    // not a path that climbs out of /channels.
    let (code, _, stderr) = channels(&server, "../../x").await;
    assert_ne!(code, 0);
    assert!(stderr.contains("HTTP 400"), "{stderr}");
    assert!(!stderr.contains("no such endpoint"), "{stderr}");
    for name in [".", ".."] {
        let (code, _, stderr) = channels(&server, name).await;
        assert_ne!(code, 0);
        assert!(stderr.contains("cannot name a resource"), "{stderr}");
    }
    // A name with characters that need escaping still reaches its channel, signed correctly.
    let (mut raw, id) = server.raw().await;
    raw.subscribe(&id, "room@1,a=b", None).await;
    let (code, stdout, stderr) = channels(&server, "room@1,a=b").await;
    assert_eq!(code, 0, "{stderr}");
    assert!(stdout.contains("occupied"), "{stdout}");
}

#[tokio::test]
async fn a_damaged_recordings_file_name_reaches_the_terminal_escaped() {
    let dir = std::env::temp_dir().join(format!("tickertape-escape-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("rec\u{1b}]0;pwned\u{7}.ndjson");
    std::fs::write(&file, "this is not a recording\n").unwrap();
    let mut cmd = command();
    cmd.arg("replay").arg("--json").arg(&file);
    let mut proc = Proc::spawn(&mut cmd);
    let status = proc.wait(Duration::from_secs(10)).await;
    let stderr = proc.stderr_bytes();
    assert!(!status.success());
    assert!(
        !stderr.contains(&0x1b),
        "{}",
        String::from_utf8_lossy(&stderr)
    );
    assert!(
        !stderr.contains(&0x07),
        "{}",
        String::from_utf8_lossy(&stderr)
    );
    assert!(String::from_utf8_lossy(&stderr).contains("damaged"));
}
