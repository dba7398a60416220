#[derive(pipetel::Pipeline)]
union Nightly { a: u32, b: f32 }

fn main() {}
