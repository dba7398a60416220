//! How the reference tables write numbers: as the guide writes them.

use std::time::Duration;

/// `n` with a comma between each group of three digits: `28,672`.
pub(super) fn count(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// `1 s`, `100 ms`: whole seconds in seconds, the rest in milliseconds.
pub(super) fn duration(duration: Duration) -> String {
    if duration.subsec_nanos() == 0 {
        format!("{} s", duration.as_secs())
    } else {
        format!("{} ms", duration.as_millis())
    }
}

/// `0.01` as `1 %`.
pub(super) fn percent(share: f64) -> String {
    format!("{} %", (share * 100.0).round())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_as_the_documents_write_them() {
        assert_eq!(count(7), "7");
        assert_eq!(count(1000), "1,000");
        assert_eq!(count(28_672), "28,672");
        assert_eq!(count(1_000_000), "1,000,000");
        assert_eq!(duration(Duration::from_secs(10)), "10 s");
        assert_eq!(duration(Duration::from_millis(100)), "100 ms");
        assert_eq!(percent(0.01), "1 %");
    }
}
