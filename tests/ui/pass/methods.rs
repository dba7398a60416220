//! Methods with every receiver, associated functions, trait methods (default and
//! implemented), and a method returning a borrow of `&mut self`.
#![deny(warnings)]

use pipetel::operator;

struct Join {
    id: u64,
    name: String,
    table: Vec<u32>,
}

impl Join {
    #[operator(node_type = "hash_join", node_id = self.id)]
    fn probe(&self, batch: &[u32]) -> Vec<u32> {
        batch.iter().copied().filter(|x| self.table.contains(x)).collect()
    }

    #[operator(node_type = "hash_join", node_id = self.name)]
    fn build(&mut self, batch: Vec<u32>) -> usize {
        self.table.extend(batch);
        self.table.len()
    }

    #[operator(node_type = "hash_join", node_id = &*self.name)]
    fn table_mut(&mut self) -> &mut Vec<u32> {
        &mut self.table
    }

    #[operator(node_type = "hash_join")]
    fn into_table(self) -> Vec<u32> {
        self.table
    }

    #[operator(node_type = "hash_join")]
    fn empty(id: u64) -> Self {
        Join { id, name: format!("join-{id}"), table: Vec::new() }
    }
}

trait Operator {
    #[operator(node_type = "trait_default")]
    fn run(&self, batch: Vec<u8>) -> Vec<u8> {
        batch
    }

    fn id(&self) -> u8;
}

struct Passthrough;

impl Operator for Passthrough {
    #[operator(node_type = "trait_impl")]
    fn id(&self) -> u8 {
        1
    }
}

fn main() {
    let _telemetry = pipetel::Config::new()
        .with_metric_exporter(opentelemetry_sdk::metrics::InMemoryMetricExporter::default())
        .init();
    let mut join = Join::empty(3);
    assert_eq!(join.build(vec![1, 2, 3]), 3);
    assert_eq!(join.probe(&[2, 3, 4]), vec![2, 3]);
    join.table_mut().push(9);
    assert_eq!(join.into_table(), vec![1, 2, 3, 9]);
    assert_eq!(Passthrough.run(vec![1]), vec![1]);
    assert_eq!(Passthrough.id(), 1);
}
