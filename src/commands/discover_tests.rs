use super::*;

fn listing(entries: &[(&str, u64)]) -> BTreeMap<String, Option<u64>> {
    entries
        .iter()
        .map(|(n, c)| ((*n).to_owned(), Some(*c)))
        .collect()
}

fn said(steps: &[Step]) -> Vec<String> {
    steps
        .iter()
        .filter_map(|s| match s {
            Step::Say(t) => Some(t.clone()),
            Step::Vacated(n) => Some(format!("{n} vacated")),
            Step::Occupied(n) => Some(format!("{n} occupied again")),
            Step::Follow(_) => None,
        })
        .collect()
}

#[test]
fn channels_past_the_cap_are_never_reported() {
    let mut t = Tracker::new(2, true);
    let steps = t.look(&listing(&[("a", 1), ("b", 1), ("c", 1)]));
    assert_eq!(
        steps,
        vec![
            Step::Follow("a".into()),
            Step::Follow("b".into()),
            Step::Say("following 2 channels, the most --all follows; the rest are skipped".into()),
        ]
    );
    // Now a and b count us; c, not followed, keeps its one subscriber, then goes.
    assert!(t.look(&listing(&[("a", 2), ("b", 2), ("c", 1)])).is_empty());
    assert!(t.look(&listing(&[("a", 2), ("b", 2)])).is_empty());
    // A followed channel still is.
    assert_eq!(
        said(&t.look(&listing(&[("a", 1), ("b", 2)]))),
        ["a vacated"]
    );
}

#[test]
fn refused_channels_are_never_reported_nor_counted() {
    let mut t = Tracker::new(1, true);
    assert_eq!(
        t.look(&listing(&[("#bad", 1)])),
        vec![Step::Follow("#bad".into())]
    );
    t.refused("#bad");
    // Its one subscriber is not us: not vacated, not retried, and it takes no place.
    assert!(t.look(&listing(&[("#bad", 1)])).is_empty());
    assert!(t.look(&listing(&[])).is_empty());
    assert_eq!(
        t.look(&listing(&[("#bad", 1), ("ok", 1)])),
        vec![Step::Follow("ok".into())]
    );
}

#[test]
fn presence_channels_are_skipped_when_asked() {
    let mut t = Tracker::new(10, false);
    let steps = t.look(&listing(&[("presence-a", 1), ("private-b", 1)]));
    assert_eq!(steps, vec![Step::Follow("private-b".into())]);
    assert!(t.look(&listing(&[("private-b", 2)])).is_empty());
    let mut t = Tracker::new(10, true);
    assert_eq!(
        t.look(&listing(&[("presence-a", 1)])),
        vec![Step::Follow("presence-a".into())]
    );
}

#[test]
fn names_from_a_hostile_listing_are_refused_and_kept_cut() {
    let mut t = Tracker::new(MAX_FOLLOWED, true);
    let long: BTreeMap<String, Option<u64>> = (0..100)
        .map(|n| (format!("{n}{}", "x".repeat(100_000)), Some(1)))
        .collect();
    let steps = t.look(&long);
    assert_eq!(steps.len(), 100);
    assert!(
        said(&steps)
            .iter()
            .all(|s| s.contains("at most 200 characters") && s.len() < 400)
    );
    assert!(t.known.is_empty() && t.refused.bytes() < 100 * 1000);
    assert!(t.look(&long).is_empty(), "refused once, not said again");
}

#[test]
fn a_flapping_listing_makes_a_few_notices_per_look() {
    let mut n = Notices::default();
    for i in 0..5000 {
        n.note("vacated", || format!("c{i} vacated"));
    }
    n.note("discovered", || "discovered x".into());
    let lines = n.into_lines();
    assert_eq!(lines.len(), NOTICES_PER_KIND + 2, "{lines:?}");
    assert!(
        lines.contains(&"… and 4990 more channels vacated in this look at the listing".to_owned())
    );
}
