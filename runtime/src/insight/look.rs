//! Who takes a snapshot: a reader, or one of pipetel's own observers.
//!
//! What the analyses remember between snapshots — each operator's smoothed rate and the
//! fraction its progress reached, since when nothing has moved, which diagnoses were
//! already logged — belongs to pipetel's observers (the watcher, the progress display,
//! the dashboard, the export of progress). Their snapshots advance it; any other
//! snapshot (`snapshot()`, `report()`) reads it and changes nothing, so two taken back to
//! back are alike but for what the counters did meanwhile.

/// Who takes a snapshot.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Look {
    /// A reader: the remembered state is read, not changed.
    Read,
    /// One of pipetel's observers: the remembered state advances, and diagnoses seen
    /// for the first time send their log record.
    Observe,
}
