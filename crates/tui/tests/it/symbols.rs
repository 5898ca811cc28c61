//! What every screen is made of: with `--ascii`, only ASCII characters; with NO_COLOR, no
//! colour in any cell (bold, dim and reverse stay). Checked cell by cell on every view and
//! overlay.

use std::time::{Duration, Instant};

use ratatui::style::Color;
use tui::watch::Options;

use crate::support::dashboard::{every_view, render};

#[test]
fn ascii_screens_are_pure_ascii() {
    let t0 = Instant::now();
    let options = Options {
        ascii: true,
        ..Options::default()
    };
    for (name, s, (w, h)) in every_view(t0, options) {
        let terminal = render(&s, t0 + Duration::from_secs(20), w, h);
        let buffer = terminal.backend().buffer();
        let odd: Vec<&str> = buffer
            .content()
            .iter()
            .map(|c| c.symbol())
            .filter(|sym| !sym.is_ascii())
            .collect();
        assert!(
            odd.is_empty(),
            "{name} at {w}x{h} shows {odd:?}:\n{}",
            terminal.backend()
        );
    }
}

#[test]
fn ascii_sparklines_rise_and_fall_with_the_values() {
    let t0 = Instant::now();
    let options = Options {
        ascii: true,
        ..Options::default()
    };
    let (_, s, _) = every_view(t0, options).remove(0);
    let screen = render(&s, t0 + Duration::from_secs(20), 80, 24)
        .backend()
        .to_string();
    // HOOLI went 150, 149, 148.5, 140: from the top level down to the bottom one.
    let hooli = screen.lines().find(|l| l.contains("HOOLI")).unwrap();
    assert!(hooli.contains(" ^^~_ "), "{hooli}");
    // INITECH went 88, 88, 90.25, 91: flat at the bottom, then up.
    let initech = screen.lines().find(|l| l.contains("INITECH")).unwrap();
    assert!(initech.contains(" __~^ "), "{initech}");
}

#[test]
fn no_color_screens_have_no_colour() {
    let t0 = Instant::now();
    for ascii in [false, true] {
        let options = Options {
            color: false,
            ascii,
            ..Options::default()
        };
        for (name, s, (w, h)) in every_view(t0, options) {
            let terminal = render(&s, t0 + Duration::from_secs(20), w, h);
            let coloured: Vec<(Color, Color)> = terminal
                .backend()
                .buffer()
                .content()
                .iter()
                .filter(|c| c.fg != Color::Reset || c.bg != Color::Reset)
                .map(|c| (c.fg, c.bg))
                .collect();
            assert!(
                coloured.is_empty(),
                "{name} at {w}x{h} (ascii {ascii}) has colours {:?}",
                &coloured[..coloured.len().min(5)]
            );
        }
    }
}

#[test]
fn snapshot_ascii_chart_and_help() {
    let t0 = Instant::now();
    let options = Options {
        ascii: true,
        ..Options::default()
    };
    for (name, s, (w, h)) in every_view(t0, options) {
        if matches!(name, "chart" | "help") {
            insta::assert_snapshot!(
                format!("ascii_{name}_{w}x{h}"),
                render(&s, t0 + Duration::from_secs(20), w, h).backend()
            );
        }
    }
}
