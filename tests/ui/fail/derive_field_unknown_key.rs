#[derive(pipetel::Pipeline)]
struct Orders {
    #[pipeline(attribute, label)]
    destination: String,
}

fn main() {}
