//! The benchmark harness's one rule for ratios (`bench/harness.py`'s `ratio()`), run in
//! the real script with Python: a ratio is taken within each round and its median reported
//! with the spread; rounds whose ratios spread by more than 20% give no ratio, and say so;
//! one round gives none either.

use std::process::Command;

/// Runs `checks` (Python) with the harness imported as `h` (its temporary directory
/// removed after); what it printed, after asserting it exited 0.
fn python(checks: &str) -> String {
    let root = env!("CARGO_MANIFEST_DIR");
    let script = format!(
        "import shutil, sys\nsys.argv = ['harness.py']\nsys.path.insert(0, '{root}/bench')\n\
         import harness as h\ntry:\n{}\nfinally:\n    shutil.rmtree(h.TMP, ignore_errors=True)\n",
        checks
            .lines()
            .map(|l| format!("    {l}\n"))
            .collect::<String>()
    );
    let out = Command::new("python3")
        .arg("-c")
        .arg(&script)
        .output()
        .expect("python3 runs (./test.sh installs it)");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    assert!(
        out.status.success(),
        "{stdout}{}",
        String::from_utf8_lossy(&out.stderr)
    );
    stdout
}

#[test]
fn a_ratio_is_refused_when_its_rounds_spread_by_more_than_a_fifth() {
    let out = python(
        "\
# Each side drifts by half, but together: the per-round ratio stays 2.0, and is given.
r = h.ratio('P1', 'steady', [200, 100, 150, 210, 190], [100, 50, 75, 105, 95], target=1.5)
assert r == 2.0, r
# The same medians, but the rounds' ratios spread from 1.0 to 4.0: refused.
r = h.ratio('P1', 'noisy', [100, 200, 400, 200, 200], [100, 100, 100, 100, 100], target=1.5)
assert r is None, r
# Ratios spread by just under 20% still count (2.0 to 2.38 about a median of 2.0).
r = h.ratio('P1', 'edge', [200, 200, 238, 200, 200], [100, 100, 100, 100, 100])
assert r == 2.0, r
# One round is no ratio, whatever it says.
r = h.ratio('P1', 'once', [300], [100], target=1.5)
assert r is None, r
# A target missed is said so.
r = h.ratio('P1', 'slow', [100, 100, 100], [200, 200, 200], target=1.5)
assert r == 0.5, r",
    );
    let line = |what: &str| {
        out.lines()
            .find(|l| l.contains(what))
            .unwrap_or_else(|| panic!("no line for {what}: {out}"))
            .to_owned()
    };
    assert!(line("steady").contains("2.00x") && line("steady").contains("met, ratio spread 0%"));
    let noisy = line("noisy");
    assert!(
        noisy.contains("no ratio") && noisy.contains("rounds spread > 20%: ratio spread 150%"),
        "{noisy}"
    );
    assert!(line("edge").contains("2.00x"), "{out}");
    assert!(line("once").contains("no ratio") && line("once").contains("too few rounds"));
    assert!(line("slow").contains("0.50x") && line("slow").contains("NOT met"));
}
