//! Sizes on the command line: `64MiB`, `512KiB`, `1MB`, `10kB`, or a bare number of bytes.

/// A size in bytes, from 1 byte to 1 TiB. `K`, `M` and `G` (with or without `i` and `B`)
/// are powers of 1024 with `i`, of 1000 without, as people write them.
pub fn parse_size(text: &str) -> Result<usize, String> {
    let t = text.trim();
    let split = t
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(t.len());
    let (number, unit) = t.split_at(split);
    let number: f64 = number
        .parse()
        .map_err(|_| format!("{text:?} is not a size; try 64MiB, 512KiB or 1048576"))?;
    let scale: f64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1.0,
        "k" | "kb" => 1e3,
        "ki" | "kib" => 1024.0,
        "m" | "mb" => 1e6,
        "mi" | "mib" => 1024.0 * 1024.0,
        "g" | "gb" => 1e9,
        "gi" | "gib" => 1024.0 * 1024.0 * 1024.0,
        other => return Err(format!("{other:?} is not a size unit; use KiB, MiB or GiB")),
    };
    let bytes = number * scale;
    if !(1.0..=(1u64 << 40) as f64).contains(&bytes) {
        return Err(format!("{text:?} is out of range: give 1 byte to 1TiB"));
    }
    usize::try_from(bytes.round() as u64).map_err(|_| format!("{text:?} is too big here"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_parse_with_their_units() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("512 KiB"), Ok(512 << 10));
        assert_eq!(parse_size("1MB"), Ok(1_000_000));
        assert_eq!(parse_size("1.5k"), Ok(1500));
        assert_eq!(parse_size("4096"), Ok(4096));
    }

    #[test]
    fn nonsense_and_extremes_are_refused() {
        for bad in ["", "0", "-1", "1e400", "12XB", "MiB", "2TiB", "NaN", "inf"] {
            assert!(parse_size(bad).is_err(), "{bad}");
        }
    }
}
