#[derive(pipetel::Pipeline)]
struct Orders {
    #[pipeline(attribute = 7)]
    destination: String,
}

fn main() {}
