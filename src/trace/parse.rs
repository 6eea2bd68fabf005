//! Timestamp parsing: ISO-8601 (with offset, `Z`, or naive = UTC), epoch seconds,
//! or seconds since the trace start.

use std::path::Path;

use chrono::{DateTime, FixedOffset, NaiveDateTime};

use crate::error::{Error, Result};

/// A parsed timestamp: milliseconds, absolute (since the Unix epoch, with the source's
/// offset kept for display) or relative to the trace start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Instant {
    Absolute { ms: i64, offset: FixedOffset },
    Relative { ms: i64 },
}

impl Instant {
    pub fn ms(&self) -> i64 {
        match *self {
            Instant::Absolute { ms, .. } | Instant::Relative { ms } => ms,
        }
    }
}

/// Numbers at or above this are taken as Unix epoch seconds (2001-09-09), smaller
/// ones as seconds since the trace start.
const EPOCH_THRESHOLD_S: f64 = 1e9;

/// Parses one timestamp.
pub fn parse_timestamp(text: &str) -> Option<Instant> {
    let t = text.trim();
    if let Ok(x) = t.parse::<f64>() {
        if !x.is_finite() || x < 0.0 {
            return None;
        }
        let ms = (x * 1000.0).round() as i64;
        if x >= EPOCH_THRESHOLD_S && DateTime::from_timestamp_millis(ms).is_none() {
            return None; // past the calendar's range (year 262143)
        }
        return Some(if x >= EPOCH_THRESHOLD_S {
            Instant::Absolute {
                ms,
                offset: FixedOffset::east_opt(0).unwrap(),
            }
        } else {
            Instant::Relative { ms }
        });
    }
    if let Ok(d) = DateTime::parse_from_rfc3339(t) {
        return Some(Instant::Absolute {
            ms: d.timestamp_millis(),
            offset: *d.offset(),
        });
    }
    for fmt in [
        "%Y-%m-%d %H:%M:%S%.f",
        "%Y-%m-%dT%H:%M:%S%.f",
        "%Y-%m-%d %H:%M",
        "%Y-%m-%dT%H:%M",
    ] {
        if let Ok(n) = NaiveDateTime::parse_from_str(t, fmt) {
            return Some(Instant::Absolute {
                ms: n.and_utc().timestamp_millis(),
                offset: FixedOffset::east_opt(0).unwrap(),
            });
        }
    }
    if let Ok(d) = DateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S%z") {
        return Some(Instant::Absolute {
            ms: d.timestamp_millis(),
            offset: *d.offset(),
        });
    }
    None
}

/// Parses a whole timestamp column; rows are 1-based in errors.
pub(crate) fn parse_column(values: &[Option<String>], path: &Path) -> Result<Vec<Instant>> {
    parse_sorted(values, path, false)
}

/// Parses a timestamp column that must be sorted; `ties` allows equal neighbours (a
/// request log, where several requests share a timestamp).
pub(crate) fn parse_sorted(
    values: &[Option<String>],
    path: &Path,
    ties: bool,
) -> Result<Vec<Instant>> {
    let mut out: Vec<Instant> = Vec::with_capacity(values.len());
    for (i, v) in values.iter().enumerate() {
        let row = i + 1;
        let text = v
            .as_deref()
            .ok_or_else(|| Error::bad_row(path, row, "timestamp is empty"))?;
        let shown = super::clip(text);
        let inst = parse_timestamp(text).ok_or_else(|| {
            Error::bad_row(
                path,
                row,
                match text.trim().parse::<f64>() {
                    Ok(x) if x >= EPOCH_THRESHOLD_S && x.is_finite() => format!(
                        "'{shown}' read as epoch seconds is past the year 262143: set timestamp_unit = \"ms\" (or \"us\", \"ns\") in [trace], or convert to seconds"
                    ),
                    _ => format!("'{shown}' is not a timestamp: use ISO-8601 (2025-01-01T00:00:00Z), epoch seconds or seconds since the start"),
                },
            )
        })?;
        if let Some(prev) = out.last() {
            if std::mem::discriminant(prev) != std::mem::discriminant(&inst) {
                return Err(Error::bad_row(
                    path,
                    row,
                    "mixes absolute and relative timestamps",
                ));
            }
            if inst.ms() == prev.ms() && !ties {
                let same_text = values[i - 1].as_deref().map(str::trim) == Some(text.trim());
                return Err(Error::bad_row(
                    path,
                    row,
                    if same_text {
                        format!("duplicate timestamp '{shown}': one row per interval (a log with one row per request loads with per_request = true)")
                    } else {
                        format!("timestamp '{shown}' is under 1 ms after the row before: timestamps are kept to the millisecond, so merge such rows first (or load a per-request log with per_request = true)")
                    },
                ));
            }
            if inst.ms() < prev.ms() {
                return Err(Error::bad_row(
                    path,
                    row,
                    format!(
                        "timestamp '{shown}' is earlier than the row before: sort the file by time"
                    ),
                ));
            }
        }
        out.push(inst);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_the_formats_of_the_shipped_traces() {
        let nasa = parse_timestamp("1995-07-01T00:01:00-04:00").unwrap();
        assert_eq!(nasa.ms(), 804_571_260_000);
        let wiki = parse_timestamp("2016-01-01T01:00:00Z").unwrap();
        assert_eq!(wiki.ms(), 1_451_610_000_000);
        let seed = parse_timestamp("2025-01-01 00:01:00").unwrap();
        assert_eq!(seed.ms(), 1_735_689_660_000);
        assert_eq!(
            parse_timestamp("120"),
            Some(Instant::Relative { ms: 120_000 })
        );
        assert!(matches!(
            parse_timestamp("1700000000"),
            Some(Instant::Absolute { .. })
        ));
        assert_eq!(parse_timestamp("yesterday"), None);
    }
}
