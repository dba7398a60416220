//! Generic functions and methods: type and lifetime parameters, where clauses,
//! `impl Trait` arguments, const generics, and a `T: Rows` bound that counts rows.
#![deny(warnings)]

use pipetel::{operator, Rows};

#[operator(node_type = "map")]
fn map_all<T, U, F>(batch: Vec<T>, f: F) -> Vec<U>
where
    F: Fn(T) -> U,
{
    batch.into_iter().map(f).collect()
}

#[operator(node_type = "longest")]
fn longest<'a>(left: &'a [u8], right: &'a [u8]) -> &'a [u8] {
    if left.len() >= right.len() {
        left
    } else {
        right
    }
}

#[operator(node_type = "sum")]
fn sum(values: impl IntoIterator<Item = u64>) -> u64 {
    values.into_iter().sum()
}

#[operator(node_type = "chunk")]
fn first_chunk<const N: usize>(batch: &[u8]) -> Option<[u8; N]> {
    batch.get(..N)?.try_into().ok()
}

#[operator(node_type = "rows")]
fn count_rows<B: Rows>(batch: B) -> u64 {
    batch.rows()
}

struct Buffer<T> {
    items: Vec<T>,
}

impl<T: Clone> Buffer<T> {
    #[operator(node_type = "buffer")]
    fn take(&mut self, n: usize) -> Vec<T> {
        let n = n.min(self.items.len());
        self.items.drain(..n).collect()
    }
}

fn main() {
    let _telemetry = pipetel::Config::new()
        .with_metric_exporter(opentelemetry_sdk::metrics::InMemoryMetricExporter::default())
        .init();
    assert_eq!(map_all(vec![1, 2], |x: i32| x * 10), vec![10, 20]);
    assert_eq!(longest(b"ab", b"abc"), b"abc");
    assert_eq!(sum(vec![1, 2, 3]), 6);
    assert_eq!(first_chunk::<2>(&[1, 2, 3]), Some([1, 2]));
    assert_eq!(first_chunk::<4>(&[1, 2, 3]), None);
    assert_eq!(count_rows(vec![(); 4]), 4);
    let mut buffer = Buffer { items: vec!["a", "b", "c"] };
    assert_eq!(buffer.take(2), vec!["a", "b"]);
}
