//! [`PartitionNumber`]: the values an `#[operator(partition = …)]` expression may have.

/// A value usable as `partition` in `#[operator(partition = …)]`: an unsigned integer
/// (a partition's number, as engines number them from 0). Numbers past `u32::MAX − 1`
/// share one slot.
///
/// ```
/// #[pipetel::operator(node_type = "scan", partition = partition)]
/// fn scan_partition(partition: usize) -> Vec<u8> {
///     vec![0; partition + 1]
/// }
/// assert_eq!(scan_partition(2).len(), 3);
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be a `partition`",
    label = "expected an unsigned integer here",
    note = "`partition` takes the partition's number: `usize`, `u32`, `u64`, `u16` or `u8`"
)]
pub trait PartitionNumber {
    /// The number.
    fn partition_number(&self) -> u64;
}

macro_rules! unsigned {
    ($($ty:ty),*) => {$(
        impl PartitionNumber for $ty {
            #[inline]
            fn partition_number(&self) -> u64 {
                *self as u64
            }
        }
    )*};
}

unsigned!(usize, u64, u32, u16, u8);

impl<T: PartitionNumber + ?Sized> PartitionNumber for &T {
    #[inline]
    fn partition_number(&self) -> u64 {
        (**self).partition_number()
    }
}
