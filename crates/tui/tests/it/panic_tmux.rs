//! A panic on a screen gives the terminal back: the kit's example `panicking` (a screen that
//! panics on a key, with the mouse captured) runs in tmux at 80×24; after the panic the
//! terminal is cooked again, on the main screen, with the mouse released (tmux forgets the
//! mouse modes with the alternate screen, so the bytes written are checked too), and the
//! panic's message is readable. Needs tmux.

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// The example, built by `cargo test` beside this test's own binary.
fn example() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let dir = exe.parent().and_then(Path::parent).unwrap();
    dir.join("examples").join("panicking")
}

/// A tmux command to the test's own server (its socket in `home`), which no other test's
/// sessions end.
fn tmux(home: &Path, args: &[&str]) -> String {
    let out = Command::new("tmux")
        .arg("-S")
        .arg(home.join("tmux.sock"))
        .args(args)
        .output()
        .expect("tmux is needed for this test");
    String::from_utf8_lossy(&out.stdout).trim().to_owned()
}

fn wait(what: &str, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + Duration::from_secs(15);
    while !done() {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        std::thread::sleep(Duration::from_millis(50));
    }
}

#[test]
fn a_panic_gives_the_terminal_back_mouse_included() {
    let exe = example();
    assert!(exe.exists(), "{} (cargo test builds it)", exe.display());
    let home = std::env::temp_dir().join(format!("tickertape-panic-{}", std::process::id()));
    std::fs::create_dir_all(&home).unwrap();
    let (stderr, stty, status) = (home.join("stderr"), home.join("stty"), home.join("status"));
    let written = home.join("written");
    for f in [&stderr, &stty, &status, &written] {
        let _ = std::fs::remove_file(f);
    }
    let session = format!("tickertape-panic-{}", std::process::id());
    let command = format!(
        "{} 2> {}; code=$?; stty -a > {}; echo $code > {}",
        exe.display(),
        stderr.display(),
        stty.display(),
        status.display()
    );
    tmux(
        &home,
        &[
            "new-session",
            "-d",
            "-s",
            &session,
            "-x",
            "80",
            "-y",
            "24",
            &command,
        ],
    );
    tmux(
        &home,
        &["set-option", "-t", &session, "remain-on-exit", "on"],
    );
    let pane = |format: &str| tmux(&home, &["display-message", "-p", "-t", &session, format]);
    wait("the screen", || {
        tmux(&home, &["capture-pane", "-p", "-t", &session]).contains("waiting for b")
    });
    assert_eq!(pane("#{mouse_any_flag}"), "1", "the mouse is captured");
    // What the program writes from here on.
    let pipe = format!("cat >> {}", written.display());
    tmux(&home, &["pipe-pane", "-o", "-t", &session, &pipe]);
    std::thread::sleep(Duration::from_millis(200));
    tmux(&home, &["send-keys", "-t", &session, "b"]);
    wait("the exit status", || {
        std::fs::read_to_string(&status).is_ok_and(|s| s.ends_with('\n'))
    });
    let code = std::fs::read_to_string(&status).unwrap();
    let said = std::fs::read_to_string(&stderr).unwrap_or_default();
    let (alternate, mouse) = (pane("#{alternate_on}"), pane("#{mouse_any_flag}"));
    let settings = std::fs::read_to_string(&stty).unwrap_or_default();
    std::thread::sleep(Duration::from_millis(200));
    let bytes = std::fs::read(&written).unwrap_or_default();
    tmux(&home, &["kill-server"]);
    let _ = std::fs::remove_dir_all(&home);
    assert_eq!(code.trim(), "101", "a panic's status: {said}");
    assert!(
        said.contains("boom, as asked"),
        "the panic's message: {said}"
    );
    let flags: Vec<&str> = settings.split_whitespace().collect();
    assert!(
        flags.contains(&"icanon") && flags.contains(&"echo"),
        "raw mode was left on:\n{settings}"
    );
    assert_eq!(alternate, "0", "the alternate screen was left on");
    assert_eq!(mouse, "0", "the mouse was left captured");
    let bytes = String::from_utf8_lossy(&bytes);
    let release = bytes.find("\u{1b}[?1000l");
    let unpaste = bytes.find("\u{1b}[?2004l");
    let leave = bytes.find("\u{1b}[?1049l");
    assert!(
        unpaste.is_some() && unpaste < leave,
        "bracketed paste turned off, then the alternate screen left: {bytes:?}"
    );
    assert!(
        release.is_some() && release < leave,
        "the mouse released, then the alternate screen left: {bytes:?}"
    );
}
