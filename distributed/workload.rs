//! The cluster example's and benchmark's workload: generated CSV orders and customers,
//! four analytic queries, and the workers' loopback addresses for datafusion-distributed.

use std::io::Write as _;
use std::path::{Path, PathBuf};

use datafusion::error::DataFusionError;
use datafusion::prelude::{CsvReadOptions, SessionContext};
use datafusion_distributed::WorkerResolver;

pub const QUERIES: [(&str, &str); 4] = [
    (
        "revenue by region",
        "SELECT region, count(*) AS orders, sum(amount) AS revenue \
         FROM orders GROUP BY region ORDER BY region",
    ),
    (
        "revenue by customer segment (a join)",
        "SELECT c.segment, count(*) AS orders, sum(o.amount) AS revenue \
         FROM orders o JOIN customers c ON o.customer = c.customer \
         GROUP BY c.segment ORDER BY c.segment",
    ),
    (
        "the largest orders (a sort with a limit)",
        "SELECT order_id, region, amount FROM orders ORDER BY amount DESC, order_id LIMIT 5",
    ),
    (
        "large orders per day",
        "SELECT day, count(*) AS large FROM orders WHERE amount > 900 \
         GROUP BY day ORDER BY large DESC, day LIMIT 5",
    ),
];

/// Files of the orders table: of uneven sizes, as real partitions are.
pub const FILES: u64 = 8;
const CUSTOMERS: u64 = 1_000;

/// The workers, by their ports on 127.0.0.1.
#[derive(Clone)]
pub struct Ports(pub Vec<u16>);

impl WorkerResolver for Ports {
    fn get_urls(&self) -> Result<Vec<url::Url>, DataFusionError> {
        self.0
            .iter()
            .map(|port| {
                url::Url::parse(&format!("http://127.0.0.1:{port}"))
                    .map_err(|error| DataFusionError::External(Box::new(error)))
            })
            .collect()
    }
}

/// Registers the tables [`generate`] wrote into `data` on `ctx`.
pub async fn register(ctx: &SessionContext, data: &Path) -> Result<(), DataFusionError> {
    for table in ["orders", "customers"] {
        let path = data.join(table);
        let path = path
            .to_str()
            .expect("a temporary directory's path is UTF-8");
        ctx.register_csv(table, path, CsvReadOptions::new()).await?;
    }
    Ok(())
}

/// Writes the tables: `orders` (order_id, customer, region, amount, day) in `FILES` files,
/// the first twice the size of the others, and `customers` (customer, segment).
pub fn generate(orders: u64) -> std::io::Result<PathBuf> {
    let dir = std::env::temp_dir().join(format!(
        "pipetel-cluster-data-{}-{orders}",
        std::process::id()
    ));
    let orders_dir = dir.join("orders");
    std::fs::create_dir_all(&orders_dir)?;
    let regions = ["north", "south", "east", "west", "centre"];
    let shares: Vec<u64> = (0..FILES)
        .map(|file| if file == 0 { 2 } else { 1 })
        .collect();
    let total: u64 = shares.iter().sum();
    let mut id = 0;
    for (file, share) in shares.iter().enumerate() {
        let mut out = std::io::BufWriter::new(std::fs::File::create(
            orders_dir.join(format!("part-{file}.csv")),
        )?);
        writeln!(out, "order_id,customer,region,amount,day")?;
        for _ in 0..orders * share / total {
            // A fixed scramble: the same data on every run.
            let mix = id * 2_654_435_761 % 1_000_003;
            writeln!(
                out,
                "{id},{},{},{}.{:02},{}",
                mix % CUSTOMERS,
                regions[(mix % 5) as usize],
                mix % 1_000,
                mix % 100,
                1 + mix % 365
            )?;
            id += 1;
        }
    }
    let customers_dir = dir.join("customers");
    std::fs::create_dir_all(&customers_dir)?;
    let segments = ["retail", "wholesale", "online"];
    let mut out =
        std::io::BufWriter::new(std::fs::File::create(customers_dir.join("customers.csv"))?);
    writeln!(out, "customer,segment")?;
    for customer in 0..CUSTOMERS {
        writeln!(out, "{customer},{}", segments[(customer % 3) as usize])?;
    }
    Ok(dir)
}
