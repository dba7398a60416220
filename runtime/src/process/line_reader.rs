//! Lines read from a child's pipe as they come, each at most [`PROCESS_LINE_BYTES`]: a
//! child that writes without line endings is relayed in pieces, never held whole.

use std::io::{BufRead, BufReader, ErrorKind, Read};

/// The most bytes a relayed line holds (64 KiB): a longer one goes as several.
pub const PROCESS_LINE_BYTES: usize = 64 * 1024;

/// Reads `inner` line by line.
pub(crate) struct LineReader<R> {
    inner: BufReader<R>,
    line: Vec<u8>,
}

impl<R: Read> LineReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        LineReader {
            inner: BufReader::with_capacity(PROCESS_LINE_BYTES, inner),
            line: Vec::new(),
        }
    }

    /// The next line, without its line ending (`\n` or `\r\n`); the last one even without
    /// one; `None` at the end of the stream or on a read error.
    pub(crate) fn next_line(&mut self) -> Option<Vec<u8>> {
        loop {
            let available = match self.inner.fill_buf() {
                Ok(available) => available,
                Err(error) if error.kind() == ErrorKind::Interrupted => continue,
                Err(_) => &[],
            };
            if available.is_empty() {
                return (!self.line.is_empty()).then(|| self.take());
            }
            let room = PROCESS_LINE_BYTES - self.line.len();
            let looked = &available[..available.len().min(room)];
            match looked.iter().position(|&byte| byte == b'\n') {
                Some(end) => {
                    self.line.extend_from_slice(&looked[..end]);
                    self.inner.consume(end + 1);
                    return Some(self.take());
                }
                None => {
                    let taken = looked.len();
                    self.line.extend_from_slice(looked);
                    self.inner.consume(taken);
                    if self.line.len() == PROCESS_LINE_BYTES {
                        return Some(self.take());
                    }
                }
            }
        }
    }

    fn take(&mut self) -> Vec<u8> {
        let mut line = std::mem::take(&mut self.line);
        if line.last() == Some(&b'\r') {
            line.pop();
        }
        line
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(bytes: &[u8]) -> Vec<Vec<u8>> {
        let mut reader = LineReader::new(bytes);
        std::iter::from_fn(|| reader.next_line()).collect()
    }

    #[test]
    fn lines_end_at_line_endings_and_at_the_cap() {
        assert_eq!(lines(b"a\r\nbb\n\nlast"), [&b"a"[..], b"bb", b"", b"last"]);
        assert!(lines(b"").is_empty());
        let long = vec![b'x'; PROCESS_LINE_BYTES * 2 + 10];
        let pieces = lines(&long);
        let sizes: Vec<usize> = pieces.iter().map(Vec::len).collect();
        assert_eq!(sizes, [PROCESS_LINE_BYTES, PROCESS_LINE_BYTES, 10]);
    }
}
