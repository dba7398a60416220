#[derive(Debug)]
struct EtlError;

#[pipetel::pipeline_step]
fn extract(text: &str) -> Result<u32, EtlError> {
    let value = text.parse::<u32>()?;
    Ok(value)
}

fn main() {}
