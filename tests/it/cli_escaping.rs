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

/// Characters no message on a terminal may carry raw: every unsafe one but the newline.
fn raw_unsafe(bytes: &[u8]) -> Option<char> {
    String::from_utf8_lossy(bytes)
        .chars()
        .find(|&c| c != '\n' && protocol::safe_text::is_unsafe(c))
}

/// A flag's value is quoted in the usage error that refuses it, by clap or by the plan:
/// escaped either way, and the exit status is still a usage error's.
#[tokio::test]
async fn a_flags_value_reaches_the_terminal_escaped_in_its_error() {
    let hostile = "\u{1b}]0;pwned\u{7}\u{202e}\u{ad}x\u{e0041}";
    for args in [
        // Refused by clap's own parser.
        vec!["webhooks".to_owned(), "--listen".into(), hostile.into()],
        vec![
            "watch".into(),
            "c".into(),
            "--max-buffer".into(),
            hostile.into(),
        ],
        // Refused by the plan, after clap.
        vec![
            "watch".into(),
            "c".into(),
            "--json".into(),
            "--node".into(),
            format!("ws://{hostile}:1"),
        ],
        vec![
            "watch".into(),
            "c".into(),
            "--json".into(),
            "--node".into(),
            format!("{hostile}=ws://h:1"),
        ],
    ] {
        let mut cmd = command();
        cmd.args(&args);
        let mut proc = Proc::spawn(&mut cmd);
        let status = proc.wait(Duration::from_secs(10)).await;
        let stderr = proc.stderr_bytes();
        assert_eq!(
            status.code(),
            Some(2),
            "{args:?}: {}",
            String::from_utf8_lossy(&stderr)
        );
        assert_eq!(
            raw_unsafe(&stderr),
            None,
            "{args:?}: {}",
            String::from_utf8_lossy(&stderr)
        );
        assert!(
            String::from_utf8_lossy(&stderr).contains("\\u{202e}\\u{ad}x\\u{e0041}"),
            "{args:?}: the value is shown, escaped: {}",
            String::from_utf8_lossy(&stderr)
        );
    }
}

/// A file's content quoted in the error that refuses it (a bindings file's line, as TOML's
/// errors show it): escaped, format characters included.
#[tokio::test]
async fn a_files_content_reaches_the_terminal_escaped_in_its_error() {
    let dir = std::env::temp_dir().join(format!("tickertape-escape-file-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let file = dir.join("bindings.toml");
    std::fs::write(
        &file,
        "[[bind]]\nrule = \"\u{1b}]0;pwned\u{7}\u{ad}\u{202e}\u{e0041}=log\"\n",
    )
    .unwrap();
    let mut cmd = command();
    cmd.args(["watch", "c", "--json", "--port", "1", "--bindings"])
        .arg(&file);
    let mut proc = Proc::spawn(&mut cmd);
    let status = proc.wait(Duration::from_secs(10)).await;
    let stderr = proc.stderr_bytes();
    let text = String::from_utf8_lossy(&stderr);
    assert!(!status.success(), "{text}");
    assert_eq!(raw_unsafe(&stderr), None, "{text}");
    assert!(text.contains("\\u{ad}\\u{202e}\\u{e0041}"), "{text}");
}
