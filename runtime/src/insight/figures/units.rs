//! Numbers in human units, for the report and the progress lines: counts (`1.2 M`),
//! bytes (`34.5 MiB`), durations (`12.3 ms`), batches (`1 batch`, `12 batches`) and
//! ratios (`0.50`, `1.6e-5`) and shares (`97%`).

use std::time::Duration;

/// `999`, `1.2 K`, `3.4 M`, `5.6 G`.
pub(crate) fn count(n: u64) -> String {
    const UNITS: [(f64, &str); 4] = [(1e12, "T"), (1e9, "G"), (1e6, "M"), (1e3, "K")];
    UNITS
        .iter()
        .find(|(scale, _)| n as f64 >= *scale)
        .map_or_else(
            || n.to_string(),
            |(scale, unit)| format!("{:.1} {unit}", n as f64 / scale),
        )
}

/// `512 B`, `1.5 KiB`, `34.5 MiB`, `2.0 GiB`.
pub(crate) fn bytes(n: u64) -> String {
    const UNITS: [(f64, &str); 4] = [
        (1024.0 * 1024.0 * 1024.0 * 1024.0, "TiB"),
        (1024.0 * 1024.0 * 1024.0, "GiB"),
        (1024.0 * 1024.0, "MiB"),
        (1024.0, "KiB"),
    ];
    UNITS
        .iter()
        .find(|(scale, _)| n as f64 >= *scale)
        .map_or_else(
            || format!("{n} B"),
            |(scale, unit)| format!("{:.1} {unit}", n as f64 / scale),
        )
}

/// `850 ns`, `12.3 µs`, `12.3 ms`, `1.23 s`.
pub(crate) fn duration(d: Duration) -> String {
    let nanos = d.as_nanos();
    match nanos {
        0..=999 => format!("{nanos} ns"),
        1_000..=999_999 => format!("{:.1} µs", nanos as f64 / 1e3),
        1_000_000..=999_999_999 => format!("{:.1} ms", nanos as f64 / 1e6),
        _ => format!("{:.2} s", d.as_secs_f64()),
    }
}

/// `1 batch`, `12 batches`, `1.2 K batches`.
pub(crate) fn batches(n: u64) -> String {
    match n {
        1 => "1 batch".to_owned(),
        n => format!("{} batches", count(n)),
    }
}

/// A share, 0 to 1, as a whole percentage: `97%`, and `<1%` for a share that is not
/// zero but rounds to it.
pub(crate) fn percent(share: f64) -> String {
    let whole = (share * 100.0).round();
    if whole == 0.0 && share > 0.0 {
        "<1%".to_owned()
    } else {
        format!("{whole:.0}%")
    }
}

/// A selectivity or amplification: `0.50`, `12.00`, and below 0.01 `1.6e-5` (an
/// aggregate's, which two decimals would show as zero).
pub(crate) fn ratio(r: f64) -> String {
    if r == 0.0 || r >= 0.01 {
        format!("{r:.2}")
    } else {
        format!("{r:.1e}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn human_units() {
        assert_eq!(count(999), "999");
        assert_eq!(count(1_234), "1.2 K");
        assert_eq!(count(1_250_000), "1.2 M");
        assert_eq!(count(3_400_000_000), "3.4 G");
        assert_eq!(bytes(512), "512 B");
        assert_eq!(bytes(1536), "1.5 KiB");
        assert_eq!(bytes(36_175_872), "34.5 MiB");
        assert_eq!(duration(Duration::from_nanos(850)), "850 ns");
        assert_eq!(duration(Duration::from_nanos(12_345)), "12.3 µs");
        assert_eq!(duration(Duration::from_micros(12_345)), "12.3 ms");
        assert_eq!(duration(Duration::from_millis(1_234)), "1.23 s");
        assert_eq!(
            (ratio(0.5), ratio(0.0), ratio(4.0 / 250_000.0)),
            ("0.50".into(), "0.00".into(), "1.6e-5".into())
        );
        assert_eq!(
            (percent(0.974), percent(0.0), percent(0.001), percent(1.0)),
            ("97%".into(), "0%".into(), "<1%".into(), "100%".into())
        );
    }
}
