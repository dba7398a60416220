//! [`Rows`] and [`Bytes`] for arrow-rs (feature `arrow`, arrow 59 — the major version
//! pipetel-datafusion's DataFusion uses).
//!
//! - `RecordBatch`: rows are [`num_rows`](arrow_array::RecordBatch::num_rows); bytes are
//!   [`get_array_memory_size`](arrow_array::RecordBatch::get_array_memory_size), the
//!   memory its arrays hold (buffers with their capacity, shared buffers counted in each
//!   array that uses them) — what the batch costs in memory, not its size on disk or on
//!   the wire.
//! - `dyn Array` (so `ArrayRef`): rows are its length, bytes
//!   [`get_array_memory_size`](arrow_array::Array::get_array_memory_size).
//!
//! They pass through `Option`, `Result` (the `Ok` side), references, `Box`, `Rc` and
//! `Arc` like every implementation. A `Vec<RecordBatch>` is a `Vec`: it counts one row per
//! batch; count its rows with `rows_out = |batches| batches.iter().map(|b| b.num_rows()).sum::<usize>()`.
//!
//! Another arrow major version has other types, which these implementations do not
//! cover (and the orphan rule keeps you from implementing pipetel's traits for them):
//! count with `rows_out = |batch| batch.num_rows()` in the attribute, or with a closure
//! given to [`Operator::iter_counted`](crate::Operator::iter_counted).

use arrow_array::{Array, RecordBatch};

use crate::rows::{Bytes, Rows};

impl Rows for RecordBatch {
    #[inline]
    fn rows(&self) -> u64 {
        self.num_rows() as u64
    }
}

impl Bytes for RecordBatch {
    #[inline]
    fn bytes_len(&self) -> u64 {
        self.get_array_memory_size() as u64
    }
}

impl Rows for dyn Array {
    #[inline]
    fn rows(&self) -> u64 {
        self.len() as u64
    }
}

impl Bytes for dyn Array {
    #[inline]
    fn bytes_len(&self) -> u64 {
        self.get_array_memory_size() as u64
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};

    use crate::rows::{Bytes, Rows};

    #[test]
    fn a_batch_counts_its_rows_and_its_memory() {
        let ids: ArrayRef = Arc::new(Int64Array::from_iter_values(0..1000));
        let names: ArrayRef = Arc::new(StringArray::from_iter_values(
            (0..1000).map(|n| format!("name {n}")),
        ));
        let batch =
            RecordBatch::try_from_iter([("id", ids.clone()), ("name", names.clone())]).unwrap();
        assert_eq!(batch.rows(), 1000);
        assert_eq!(Some(&batch).rows(), 1000);
        assert_eq!(Ok::<_, String>(Arc::new(batch.clone())).rows(), 1000);
        assert_eq!(ids.rows(), 1000);
        // 8 bytes per id at least, and the batch is the sum of its columns.
        assert!(ids.bytes_len() >= 8000);
        assert_eq!(batch.bytes_len(), ids.bytes_len() + names.bytes_len());
        assert_eq!(batch.bytes_len(), batch.get_array_memory_size() as u64);
    }
}
