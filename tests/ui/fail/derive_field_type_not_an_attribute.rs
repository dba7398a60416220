#[derive(pipetel::Pipeline)]
struct Orders {
    #[pipeline(attribute)]
    destinations: Vec<String>,
}

fn main() {}
