//! Return shapes: `Result` with `?` and early `return`, `Option` with `?`, `impl Trait`,
//! `Box<dyn Trait>`, a tuple, `return` inside loops and matches, and closures and
//! nested functions whose own `return`s must stay theirs.
#![deny(warnings)]

use std::num::ParseIntError;

use pipetel::operator;

#[operator(node_type = "parse")]
fn parse_all(lines: &[&str]) -> Result<Vec<u64>, ParseIntError> {
    let mut out = Vec::new();
    for line in lines {
        if line.is_empty() {
            return Ok(out);
        }
        out.push(line.parse()?);
    }
    Ok(out)
}

#[operator(node_type = "lookup")]
fn second_word(text: &str) -> Option<&str> {
    let word = text.split(' ').nth(1)?;
    Some(word)
}

#[operator(node_type = "stream")]
fn evens(limit: u64) -> impl Iterator<Item = u64> {
    (0..limit).filter(|n| n % 2 == 0)
}

#[operator(node_type = "stream")]
fn boxed(limit: u64) -> Box<dyn Iterator<Item = u64>> {
    if limit == 0 {
        return Box::new(std::iter::empty());
    }
    Box::new(0..limit)
}

#[operator(node_type = "split")]
fn split(batch: Vec<i32>) -> (Vec<i32>, Vec<i32>) {
    batch.into_iter().partition(|x| *x < 0)
}

#[operator(node_type = "search")]
fn find(batch: &[i32], wanted: i32) -> Option<usize> {
    let mut index = 0;
    loop {
        match batch.get(index) {
            Some(x) if *x == wanted => return Some(index),
            Some(_) => index += 1,
            None => break None,
        }
    }
}

#[operator(node_type = "closures")]
fn with_inner_returns(batch: Vec<i32>) -> Vec<i32> {
    fn clamp(x: i32) -> i32 {
        if x > 10 {
            return 10;
        }
        x
    }
    let positive = |x: i32| -> Option<i32> {
        if x < 0 {
            return None;
        }
        Some(clamp(x))
    };
    batch.into_iter().filter_map(positive).collect()
}

#[operator(node_type = "nested")]
fn nested_in_return(x: i32) -> i32 {
    return if x > 0 {
        return x * 2;
    } else {
        0
    };
}

fn main() {
    let _telemetry = pipetel::Config::new()
        .with_metric_exporter(opentelemetry_sdk::metrics::InMemoryMetricExporter::default())
        .init();
    assert_eq!(parse_all(&["1", "2", "", "x"]), Ok(vec![1, 2]));
    assert!(parse_all(&["1", "x"]).is_err());
    assert_eq!(second_word("a b c"), Some("b"));
    assert_eq!(second_word("a"), None);
    assert_eq!(evens(5).collect::<Vec<_>>(), vec![0, 2, 4]);
    assert_eq!(boxed(0).count(), 0);
    assert_eq!(boxed(3).count(), 3);
    assert_eq!(split(vec![-1, 2, -3]), (vec![-1, -3], vec![2]));
    assert_eq!(find(&[5, 6, 7], 7), Some(2));
    assert_eq!(find(&[5, 6, 7], 8), None);
    assert_eq!(with_inner_returns(vec![-1, 3, 30]), vec![3, 10]);
    assert_eq!(nested_in_return(2), 4);
    assert_eq!(nested_in_return(-2), 0);
}
