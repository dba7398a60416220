// `rows_out` of a streaming operator counts each item, not the iterator.
#[pipetel::operator(node_type = "scan", rows_out = |all: &std::ops::Range<u8>| all.len())]
fn numbers(limit: u8) -> impl Iterator<Item = u8> {
    0..limit
}

fn main() {}
