//! Checks of a CSV file's shape before polars reads it, so that its problems are named
//! with their row: compressed files, a duplicate header name, rows with too many or too
//! few fields. Blank lines at the end are allowed (editors add them).
//!
//! Hand-written rather than a second CSV crate: polars reads the values; this only counts
//! fields per record, quote-aware, in one pass over the bytes.

use std::io::Read;
use std::path::Path;

use crate::error::{Error, Result};

/// Refuses what polars would misread or report without a row: gzip/zstd/bzip2/xz data,
/// duplicate header names and ragged rows.
pub fn check(path: &Path) -> Result<()> {
    let mut bytes = Vec::new();
    std::fs::File::open(path)
        .and_then(|mut f| f.read_to_end(&mut bytes))
        .map_err(|e| Error::io(path, e))?;
    let compressed = [
        (&[0x1f, 0x8b][..], "gzip", "gunzip"),
        (&[0x28, 0xb5, 0x2f, 0xfd][..], "zstd", "unzstd"),
        (&b"BZh"[..], "bzip2", "bunzip2"),
        (&[0xfd, b'7', b'z', b'X', b'Z'][..], "xz", "unxz"),
    ];
    for (magic, what, tool) in compressed {
        if bytes.starts_with(magic) {
            return Err(Error::bad_file(
                path,
                format!("the file is {what}-compressed: decompress it first (`{tool} -k`) and point the trace at the .csv"),
            ));
        }
    }
    let records = records(&bytes);
    let Some(header) = records.first() else {
        return Err(Error::bad_file(path, "the file is empty"));
    };
    let names: Vec<&str> = header.fields.iter().map(|f| f.trim()).collect();
    for (i, n) in names.iter().enumerate() {
        if names[..i].contains(n) {
            return Err(Error::bad_file(
                path,
                format!(
                    "the header names column '{}' twice: give every column its own name",
                    super::clip(n)
                ),
            ));
        }
    }
    // Trailing blank lines are no rows.
    let last = records.iter().rposition(|r| !r.blank()).unwrap_or(0);
    for (k, r) in records.iter().enumerate().take(last + 1).skip(1) {
        if r.fields.len() != names.len() {
            return Err(Error::bad_row(
                path,
                k,
                format!(
                    "{} field(s), but the header has {} ({}): check the delimiters and quotes on line {}",
                    r.fields.len(),
                    names.len(),
                    super::clip(&names.join(",")),
                    r.line
                ),
            ));
        }
    }
    Ok(())
}

struct Record<'a> {
    fields: Vec<&'a str>,
    /// 1-based line where the record starts.
    line: usize,
}

impl Record<'_> {
    fn blank(&self) -> bool {
        self.fields.len() == 1 && self.fields[0].trim().is_empty()
    }
}

/// Splits into records and fields: commas and newlines inside double quotes do not count;
/// `\r\n` ends a record like `\n`.
fn records(bytes: &[u8]) -> Vec<Record<'_>> {
    let text = String::from_utf8_lossy(bytes);
    let text: &str = match text {
        std::borrow::Cow::Borrowed(t) => t,
        // Not UTF-8: polars reports it; count nothing here.
        std::borrow::Cow::Owned(_) => return Vec::new(),
    };
    let b = text.as_bytes();
    let (mut out, mut fields) = (Vec::new(), Vec::new());
    let (mut start, mut quoted, mut line, mut rec_line) = (0usize, false, 1usize, 1usize);
    for i in 0..=b.len() {
        let c = b.get(i).copied();
        match c {
            Some(b'"') => quoted = !quoted,
            Some(b',') if !quoted => {
                fields.push(&text[start..i]);
                start = i + 1;
            }
            Some(b'\n') | None if !quoted || c.is_none() => {
                let end = if i > start && b[i - 1] == b'\r' {
                    i - 1
                } else {
                    i
                };
                if c.is_some() || start < b.len() || !fields.is_empty() {
                    fields.push(&text[start..end.max(start)]);
                    out.push(Record {
                        fields: std::mem::take(&mut fields),
                        line: rec_line,
                    });
                }
                start = i + 1;
                line += 1;
                rec_line = line;
            }
            Some(b'\n') => line += 1,
            _ => {}
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn quotes_hide_commas_and_newlines_and_crlf_ends_a_record() {
        let r = records(b"a,b\r\n\"x,1\ny\",2\r\n3,4\n");
        let f: Vec<Vec<&str>> = r.iter().map(|r| r.fields.clone()).collect();
        assert_eq!(
            f,
            vec![vec!["a", "b"], vec!["\"x,1\ny\"", "2"], vec!["3", "4"]]
        );
        assert_eq!(r[2].line, 4);
    }
}
