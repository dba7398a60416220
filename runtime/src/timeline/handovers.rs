//! Batches handed through pipetel channels, numbered per channel as sent and as
//! received, so that the written timeline can draw an arrow from the `n`th sent to the
//! `n`th received.

use std::collections::HashMap;
use std::sync::{Mutex, PoisonError};

use crate::timeline::recording;
use crate::timeline::slices::{record, Slice, SliceKind};

/// Each channel's batches numbered as sent and as received, while recording: a
/// channel hands its batches over in order, so the `n`th received is the `n`th sent.
static HANDOVERS: Mutex<Option<HashMap<u32, [u64; 2]>>> = Mutex::new(None);

/// Records a batch handed to channel `channel` (`out`) or taken from it, by operator
/// `series` (`inside` its segment, or the one next to it on the thread), at `tick`.
pub(crate) fn handover(channel: u32, out: bool, series: u32, inside: bool, tick: u64) {
    if !recording() {
        return;
    }
    let number = {
        let mut handovers = HANDOVERS.lock().unwrap_or_else(PoisonError::into_inner);
        let counts = handovers
            .get_or_insert_with(Default::default)
            .entry(channel)
            .or_default();
        let count = &mut counts[usize::from(!out)];
        *count += 1;
        *count
    };
    record(Slice {
        start: tick,
        end: tick,
        series,
        kind: SliceKind::Handover {
            channel,
            number,
            out,
            inside,
        },
        rows: None,
    });
}

/// Forgets the numbering, for a new recording.
pub(super) fn clear() {
    *HANDOVERS.lock().unwrap_or_else(PoisonError::into_inner) = None;
}
