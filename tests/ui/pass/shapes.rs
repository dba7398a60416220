//! Async and streaming operators in every position: free functions and methods,
//! generics, borrowed items, `?` and early `return`, extra auto-trait and lifetime
//! bounds, and futures and iterators that stay `Send` when the plain ones are.
#![deny(warnings)]

use std::num::ParseIntError;

use pipetel::operator;

fn assert_send<T: Send>(value: T) -> T {
    value
}

#[operator(node_type = "scan")]
async fn fetch(id: u32) -> Vec<u32> {
    vec![id; 3]
}

#[operator(node_type = "parse")]
async fn parse_all(lines: Vec<String>) -> Result<Vec<u64>, ParseIntError> {
    let mut out = Vec::new();
    for line in &lines {
        if line.is_empty() {
            return Ok(out);
        }
        out.push(line.parse()?);
    }
    Ok(out)
}

#[operator(node_type = "sink")]
async fn unit_output(batch: Vec<u8>) {
    drop(batch);
}

#[operator(node_type = "generic")]
async fn generic<T: Clone + Send>(items: &[T]) -> Vec<T> {
    items.to_vec()
}

#[operator(node_type = "opaque")]
async fn opaque(limit: u8) -> impl Iterator<Item = u8> {
    0..limit
}

struct Table {
    rows: Vec<u64>,
    id: u32,
}

impl Table {
    #[operator(node_type = "scan", node_id = self.id)]
    async fn read(&self) -> Vec<u64> {
        self.rows.clone()
    }

    #[operator(node_type = "sink")]
    async fn append(&mut self, batch: Vec<u64>) -> usize {
        self.rows.extend(batch);
        self.rows.len()
    }

    #[operator(node_type = "scan")]
    fn iter(&self) -> impl Iterator<Item = &u64> + '_ {
        self.rows.iter()
    }

    #[operator(node_type = "scan", rows_out = |chunk: &&[u64]| chunk.len())]
    fn chunks(&self, size: usize) -> impl ExactSizeIterator<Item = &[u64]> + Send + '_ {
        self.rows.chunks(size)
    }
}

#[operator(node_type = "filter")]
fn evens<'a>(input: impl Iterator<Item = &'a u64> + 'a) -> impl Iterator<Item = u64> + 'a {
    input.copied().filter(|n| n % 2 == 0)
}

#[operator(node_type = "project")]
fn collected_items(limit: u64) -> impl Iterator<Item = Vec<u64>> + Send {
    if limit == 0 {
        return Vec::new().into_iter();
    }
    (0..limit).map(|n| (0..n).collect()).collect::<Vec<_>>().into_iter()
}

#[operator(node_type = "scan")]
fn reversible(limit: u8) -> impl DoubleEndedIterator<Item = u8> + std::iter::FusedIterator {
    0..limit
}

#[operator(node_type = "scan")]
fn numbers_stream(limit: u8) -> impl futures::Stream<Item = u8> + Send + Unpin {
    futures::stream::iter(0..limit)
}

fn main() {
    let mut table = Table {
        rows: vec![1, 2, 3, 4],
        id: 7,
    };
    futures::executor::block_on(async {
        let fetched = assert_send(fetch(1)).await;
        let parsed = assert_send(parse_all(vec!["1".into(), String::new()])).await;
        unit_output(vec![1]).await;
        let generic = generic(&[1u8, 2]).await;
        let opaque: Vec<u8> = opaque(3).await.collect();
        let read = table.read().await;
        let appended = table.append(read).await;
        assert_eq!((fetched.len(), parsed.map(|p| p.len()), generic.len()), (3, Ok(1), 2));
        assert_eq!((opaque.len(), appended), (3, 8));
    });
    let evens: Vec<u64> = evens(table.iter()).collect();
    assert_eq!(evens, vec![2, 4, 2, 4]);
    assert_eq!(assert_send(table.chunks(3)).len(), 3);
    assert_eq!(collected_items(3).count(), 3);
    assert_eq!(reversible(4).rev().next(), Some(3));
    let streamed: Vec<u8> =
        futures::executor::block_on(futures::StreamExt::collect(numbers_stream(3)));
    assert_eq!(streamed, vec![0, 1, 2]);
}
