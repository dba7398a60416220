#[pipetel::pipeline_step]
const fn extract() -> u8 {
    0
}

fn main() {}
