//! Counting the distinct values among 32 bytes, for the emptying of a segment list
//! (`counters::segment_list`): with SSE2 on x86_64, plain loops elsewhere.
//!
//! A list mostly holds segments of one operator whose buckets are one or a few
//! neighbours. Adding each segment to its bucket in memory makes a chain: every
//! increment loads what the one before stored and waits for the store to be forwarded,
//! 32 in a row (about 2.5 ns a call, measured). Comparing all 32 with one value at a
//! time instead adds each distinct bucket once, with its count.

/// Values counted at a time.
pub(crate) const WIDTH: usize = 32;

/// The byte at bit `shift` of each word, in order.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
pub(crate) fn bytes_at(words: &[u64; WIDTH], shift: u32) -> [u8; WIDTH] {
    use std::arch::x86_64::{
        __m128i, _mm_and_si128, _mm_cvtsi32_si128, _mm_loadu_si128, _mm_packs_epi32,
        _mm_packus_epi16, _mm_set1_epi64x, _mm_srl_epi64,
    };
    // SAFETY: SSE2 is enabled (the `cfg`); unaligned 16-byte loads of two words each,
    // within `words`; `[u8; 32]` and `[__m128i; 2]` have the same size, and every bit
    // pattern is a valid `u8`.
    unsafe {
        let shift = _mm_cvtsi32_si128(shift as i32);
        let low_byte = _mm_set1_epi64x(0xff);
        // Each pair of words, shifted and masked: two 32-bit lanes holding a byte each,
        // with a zero lane after each; packing pairs of vectors halves the lanes three
        // times (no value reaches the signed saturation).
        let pair = |at: usize| {
            let pair = _mm_loadu_si128(words.as_ptr().add(at).cast::<__m128i>());
            _mm_and_si128(_mm_srl_epi64(pair, shift), low_byte)
        };
        let quad = |at: usize| _mm_packs_epi32(pair(at), pair(at + 2));
        let eight = |at: usize| _mm_packs_epi32(quad(at), quad(at + 4));
        let sixteen = |at: usize| _mm_packus_epi16(eight(at), eight(at + 8));
        std::mem::transmute::<[__m128i; 2], [u8; WIDTH]>([sixteen(0), sixteen(16)])
    }
}

/// The byte at bit `shift` of each word, in order.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
pub(crate) fn bytes_at(words: &[u64; WIDTH], shift: u32) -> [u8; WIDTH] {
    portable::bytes_at(words, shift)
}

/// Calls `count` with each distinct value among `values` (in the order each first
/// appears) and how many times it occurs.
#[inline(always)]
pub(crate) fn each_distinct(values: &[u8; WIDTH], mut count: impl FnMut(u8, u32)) {
    let mut remaining = u32::MAX;
    // Each round takes at least one value out (the first remaining one equals itself):
    // at most `WIDTH` rounds.
    while remaining != 0 {
        let value = values[remaining.trailing_zeros() as usize];
        let same = equal_to(values, value);
        count(value, same.count_ones());
        remaining &= !same;
    }
}

/// Bit `i` set where `values[i] == value`.
#[cfg(all(target_arch = "x86_64", target_feature = "sse2"))]
#[inline(always)]
fn equal_to(values: &[u8; WIDTH], value: u8) -> u32 {
    use std::arch::x86_64::{
        __m128i, _mm_cmpeq_epi8, _mm_loadu_si128, _mm_movemask_epi8, _mm_set1_epi8,
    };
    // SAFETY: SSE2 is enabled (the `cfg`); two unaligned 16-byte loads within `values`.
    unsafe {
        let values = values.as_ptr().cast::<__m128i>();
        let wanted = _mm_set1_epi8(value as i8);
        let low = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(values), wanted));
        let high = _mm_movemask_epi8(_mm_cmpeq_epi8(_mm_loadu_si128(values.add(1)), wanted));
        (low as u32 & 0xffff) | (high as u32) << 16
    }
}

/// Bit `i` set where `values[i] == value`.
#[cfg(not(all(target_arch = "x86_64", target_feature = "sse2")))]
#[inline(always)]
fn equal_to(values: &[u8; WIDTH], value: u8) -> u32 {
    portable::equal_to(values, value)
}

/// The same without SSE2 (compiled for tests everywhere, to compare with).
#[cfg(any(test, not(all(target_arch = "x86_64", target_feature = "sse2"))))]
mod portable {
    use super::WIDTH;

    #[inline(always)]
    pub(super) fn bytes_at(words: &[u64; WIDTH], shift: u32) -> [u8; WIDTH] {
        std::array::from_fn(|at| (words[at] >> shift) as u8)
    }

    #[inline(always)]
    pub(super) fn equal_to(values: &[u8; WIDTH], value: u8) -> u32 {
        values.iter().enumerate().fold(0, |same, (at, &other)| {
            same | u32::from(other == value) << at
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_bytes_of_each_word_come_out_in_order() {
        let words: [u64; WIDTH] =
            std::array::from_fn(|at| (at as u64) << 32 | (255 - at as u64) << 40 | 0xdead);
        let expected = |shift: u32| std::array::from_fn(|at| (words[at] >> shift) as u8);
        for shift in [0, 8, 32, 40, 56] {
            assert_eq!(bytes_at(&words, shift), expected(shift), "shift {shift}");
            assert_eq!(portable::bytes_at(&words, shift), expected(shift));
        }
    }

    #[test]
    fn each_distinct_value_is_counted_once_with_its_count() {
        for values in [
            [7u8; WIDTH],
            std::array::from_fn(|at| at as u8),
            std::array::from_fn(|at| [3, 255, 3, 0][at % 4]),
            std::array::from_fn(|at| if at == 31 { 128 } else { 1 }),
        ] {
            let mut counted: Vec<(u8, u32)> = Vec::new();
            each_distinct(&values, |value, count| counted.push((value, count)));
            let mut expected: Vec<(u8, u32)> = Vec::new();
            for &value in &values {
                match expected.iter_mut().find(|(seen, _)| *seen == value) {
                    Some((_, count)) => *count += 1,
                    None => expected.push((value, 1)),
                }
            }
            assert_eq!(counted, expected);
            for value in [0, 1, 3, 7, 128, 255] {
                assert_eq!(equal_to(&values, value), portable::equal_to(&values, value));
            }
        }
    }
}
