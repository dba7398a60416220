// `rows_out` of an async operator receives the awaited output.
#[pipetel::operator(node_type = "scan", rows_out = |out: &String| out.len())]
async fn fetch(id: u8) -> Vec<u8> {
    vec![id]
}

fn main() {}
