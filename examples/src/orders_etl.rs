//! The second example, in the dlt shape: extract orders from a generated source (pages
//! of JSON-ish records, as an API would give), normalize them (parse, validate, drop the
//! bad ones), and load them into a real SQLite file — a `Pipeline` with three steps and
//! an operator in each.

use std::path::{Path, PathBuf};

use pipetel::{current_operator, operator, pipeline_step, Pipeline, Rows};
use rusqlite::{params, Connection};

/// One order, as loaded.
#[derive(Debug, Clone, PartialEq)]
pub struct Order {
    /// Its id.
    pub id: u64,
    /// Its customer.
    pub customer: String,
    /// Its amount in cents.
    pub cents: i64,
}

/// Orders ready to load.
#[derive(Debug, Default)]
pub struct Normalized(pub Vec<Order>);

impl Rows for Normalized {
    fn rows(&self) -> u64 {
        self.0.len() as u64
    }
}

/// Whether record `id` of the source is malformed (one in 97 is).
pub fn is_malformed(id: u64) -> bool {
    id % 97 == 13
}

/// Page `page` of the source: up to `size` records `id;customer;amount`.
#[operator(node_type = "source", name = "orders_api")]
fn fetch_page(page: u64, size: u64, total: u64) -> Vec<String> {
    let first = page * size;
    let records: Vec<String> = (first..(first + size).min(total))
        .map(|id| {
            if is_malformed(id) {
                format!("{id};customer-{};not-a-number", id % 50)
            } else {
                format!("{id};customer-{};{}.{:02}", id % 50, id % 500, id % 100)
            }
        })
        .collect();
    current_operator().add_bytes_read(records.iter().map(|r| r.len() as u64).sum());
    records
}

/// Parses the records it can, counting the rest out.
#[operator(node_type = "parse")]
fn parse(records: &[String]) -> Normalized {
    let orders = records
        .iter()
        .filter_map(|record| {
            let mut fields = record.split(';');
            let id = fields.next()?.parse().ok()?;
            let customer = fields.next()?.to_owned();
            let (units, cents) = fields.next()?.split_once('.')?;
            let cents = units.parse::<i64>().ok()? * 100 + cents.parse::<i64>().ok()?;
            Some(Order {
                id,
                customer,
                cents,
            })
        })
        .collect::<Vec<_>>();
    if orders.len() < records.len() {
        tracing::warn!(
            dropped = records.len() - orders.len(),
            "malformed records dropped"
        );
    }
    Normalized(orders)
}

/// Inserts a batch in one transaction.
#[operator(node_type = "sink", name = "sqlite.orders")]
fn insert(connection: &mut Connection, batch: &[Order]) -> rusqlite::Result<usize> {
    let transaction = connection.transaction()?;
    {
        let mut statement = transaction
            .prepare_cached("INSERT INTO orders (id, customer, cents) VALUES (?1, ?2, ?3)")?;
        for order in batch {
            statement.execute(params![order.id as i64, order.customer, order.cents])?;
        }
    }
    transaction.commit()?;
    current_operator().add_rows_written(batch.len() as u64);
    Ok(batch.len())
}

/// The pipeline.
#[derive(Pipeline)]
#[pipeline(name = "orders_etl")]
pub struct OrdersEtl {
    /// The SQLite file loaded into.
    #[pipeline(attribute)]
    pub destination: PathBuf,
    /// Records in the source.
    #[pipeline(attribute = "pipeline.source_records")]
    pub records: u64,
    /// Records per page.
    pub page_size: u64,
}

impl OrdersEtl {
    /// Fetches every page of the source.
    #[pipeline_step(rows = |pages: &Vec<Vec<String>>| pages.iter().map(Vec::len).sum::<usize>())]
    fn extract(&self) -> Vec<Vec<String>> {
        let pages = self.records.div_ceil(self.page_size);
        (0..pages)
            .map(|page| fetch_page(page, self.page_size, self.records))
            .collect()
    }

    /// Parses every page, dropping malformed records.
    #[pipeline_step(rows = |batches: &Vec<Normalized>| batches.iter().map(Rows::rows).sum::<u64>())]
    fn normalize(&self, pages: Vec<Vec<String>>) -> Vec<Normalized> {
        pages.iter().map(|page| parse(page)).collect()
    }

    /// Loads every batch into the `orders` table.
    #[pipeline_step(rows = |loaded: &rusqlite::Result<usize>| *loaded.as_ref().unwrap_or(&0))]
    fn load(&self, batches: Vec<Normalized>) -> rusqlite::Result<usize> {
        let mut connection = Connection::open(&self.destination)?;
        connection.execute_batch(
            "DROP TABLE IF EXISTS orders;
             CREATE TABLE orders (id INTEGER PRIMARY KEY, customer TEXT NOT NULL, cents INTEGER NOT NULL);",
        )?;
        let mut loaded = 0;
        for batch in &batches {
            loaded += insert(&mut connection, &batch.0)?;
        }
        Ok(loaded)
    }
}

/// Runs the pipeline over `records` generated records into `destination`.
pub fn run(destination: &Path, records: u64) -> Result<usize, String> {
    let etl = OrdersEtl {
        destination: destination.to_owned(),
        records,
        page_size: 1000,
    };
    etl.run(|p| {
        let pages = p.extract();
        let batches = p.normalize(pages);
        p.load(batches).map_err(|e| e.to_string())
    })
}

/// The example's `main`: 100,000 records into `orders.db` in a temporary folder (or the
/// path given as the first argument), then the report when nothing is exported.
pub fn main() -> Result<(), String> {
    let telemetry = pipetel::Config::new().collect_locally(true).init();
    let records = std::env::var("RECORDS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000);
    let destination = std::env::args()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| std::env::temp_dir().join("pipetel-orders.db"));
    let loaded = run(&destination, records)?;
    println!("loaded {loaded} orders into {}", destination.display());
    if !telemetry.is_exporting() {
        println!("\n{}", pipetel::report());
    }
    Ok(())
}
