//! The search space of `sim tune`: a policy parameter written as a range
//! (`buffer = { min = 1.0, max = 1.6 }`) is searched; lists stay sweep axes and give one
//! arm each, with every forecaster for policies that read forecasts.

use toml::{Table, Value};

use crate::policy::PolicySpec;
use crate::scenario::Assignment;

/// Steps across a continuous range.
pub const CONTINUOUS_STEPS: u32 = 1000;

/// One searched parameter.
#[derive(Debug, Clone, PartialEq)]
pub struct Range {
    /// Dotted key inside the policy entry.
    pub key: String,
    pub min: f64,
    pub max: f64,
    /// Both ends written as integers: searched over the integers.
    pub integer: bool,
    /// The only legal values within the range, in order (a forecast `quantile`: the
    /// levels the forecasts carry); searched over them.
    pub choices: Option<Vec<f64>>,
}

impl Range {
    /// The value at `u` in [0, 1].
    pub fn value(&self, u: f64) -> f64 {
        let u = u.clamp(0.0, 1.0);
        if let Some(c) = &self.choices {
            return c[(u * (c.len() - 1) as f64).round() as usize];
        }
        if self.integer {
            return (self.min + u * (self.max - self.min)).round();
        }
        // A continuous range on a grid of a thousandth of its width: values a user can
        // read and copy (1.2345, not 1.2345098812), and none told apart by noise alone.
        let n = CONTINUOUS_STEPS as f64;
        let v = self.min + (u * n).round() / n * (self.max - self.min);
        (v * 1e9).round() / 1e9
    }

    /// The number of steps between the range's values: a continuous range's grid,
    /// an integer range's integers, or its legal choices.
    pub fn steps(&self) -> u32 {
        match &self.choices {
            Some(c) => c.len() as u32 - 1,
            None if self.integer => (self.max - self.min) as u32,
            None => CONTINUOUS_STEPS,
        }
    }

    /// `u` moved to where its value lies.
    pub fn snap(&self, u: f64) -> f64 {
        match self.steps() {
            0 => 0.0,
            n => (u.clamp(0.0, 1.0) * n as f64).round() / n as f64,
        }
    }

    pub fn toml(&self, u: f64) -> Value {
        if self.integer && self.choices.is_none() {
            Value::Integer(self.value(u) as i64)
        } else {
            Value::Float(self.value(u))
        }
    }
}

/// A policy entry with its list axes fixed: the searched ranges, and the table with every
/// range still to fill in.
#[derive(Debug, Clone)]
pub struct Template {
    /// Index of the `[[policies]]` entry.
    pub entry: usize,
    /// Its list axes' values (prefixed `policy.`).
    pub fixed: Assignment,
    pub ranges: Vec<Range>,
    table: Table,
}

fn range_of(key: &str, t: &Table) -> Option<std::result::Result<Range, String>> {
    let (Some(lo), Some(hi)) = (t.get("min"), t.get("max")) else {
        return None;
    };
    if t.len() != 2 {
        return Some(Err(format!("`{key}`: a range has exactly `min` and `max`")));
    }
    let num = |v: &Value| match v {
        Value::Integer(i) => Some(*i as f64),
        Value::Float(f) => Some(*f),
        _ => None,
    };
    let (Some(min), Some(max)) = (num(lo), num(hi)) else {
        return Some(Err(format!("`{key}`: a range's min and max are numbers")));
    };
    if !(min.is_finite() && max.is_finite() && min < max) {
        return Some(Err(format!(
            "`{key}` = {{ min = {min}, max = {max} }}: give finite numbers with min < max (one value: write it alone)"
        )));
    }
    // A policy's forecast quantile must be a level the forecasts carry: the range
    // stands for those levels within it.
    let choices = if key.rsplit('.').next() == Some("quantile") {
        let c: Vec<f64> = crate::forecast::QUANTILES
            .iter()
            .copied()
            .filter(|q| *q >= min - 1e-12 && *q <= max + 1e-12)
            .collect();
        if c.is_empty() {
            return Some(Err(format!(
                "`{key}` = {{ min = {min}, max = {max} }}: no quantile the forecasts carry lies in it; they carry {:?}",
                crate::forecast::QUANTILES
            )));
        }
        Some(c)
    } else {
        None
    };
    Some(Ok(Range {
        key: key.to_string(),
        min,
        max,
        integer: lo.is_integer() && hi.is_integer(),
        choices,
    }))
}

/// The ranges inside `t` (depth first, in key order).
fn find_ranges(t: &Table, prefix: &str, out: &mut Vec<Range>) -> std::result::Result<(), String> {
    for (k, v) in t {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        if let Value::Table(inner) = v {
            match range_of(&key, inner) {
                Some(r) => out.push(r?),
                None => find_ranges(inner, &key, out)?,
            }
        }
    }
    Ok(())
}

/// Sets the dotted `key` inside `t` (its tables exist).
fn set(t: &mut Table, key: &str, v: Value) {
    match key.split_once('.') {
        None => {
            t.insert(key.to_string(), v);
        }
        Some((head, rest)) => {
            if let Some(Value::Table(inner)) = t.get_mut(head) {
                set(inner, rest, v);
            }
        }
    }
}

/// True when a table (a forecaster or the simulation) holds a range anywhere.
pub fn has_range(t: &Table) -> Option<String> {
    let mut found = Vec::new();
    find_ranges(t, "", &mut found).ok()?;
    found.first().map(|r| r.key.clone())
}

/// `t` with every range at its low end, and the ranges.
pub fn at_low_ends(t: &Table) -> std::result::Result<(Table, Vec<Range>), String> {
    let mut ranges = Vec::new();
    find_ranges(t, "", &mut ranges)?;
    let mut filled = t.clone();
    for r in &ranges {
        set(&mut filled, &r.key, r.toml(0.0));
    }
    Ok((filled, ranges))
}

impl Template {
    /// The entries' templates: each entry expanded over its list axes.
    pub fn all(entries: &[Table]) -> std::result::Result<Vec<Template>, String> {
        let mut out = Vec::new();
        for (i, t) in entries.iter().enumerate() {
            // The ranges at their low ends, to expand the list axes around them.
            let (filled, ranges) = at_low_ends(t).map_err(|m| format!("policies[{i}]: {m}"))?;
            for (fixed, table) in crate::scenario::axes::expand(&filled) {
                let fixed: Assignment = fixed
                    .into_iter()
                    .filter(|(k, _)| !ranges.iter().any(|r| &r.key == k))
                    .map(|(k, v)| (format!("policy.{k}"), v))
                    .collect();
                out.push(Template {
                    entry: i,
                    fixed,
                    ranges: ranges.clone(),
                    table,
                });
            }
        }
        Ok(out)
    }

    /// The policy at `u` (one value in [0, 1] per range) and its assignment.
    pub fn policy(&self, u: &[f64]) -> std::result::Result<(Assignment, PolicySpec), String> {
        let mut t = self.table.clone();
        let mut assign = self.fixed.clone();
        for (r, &x) in self.ranges.iter().zip(u) {
            set(&mut t, &r.key, r.toml(x));
            assign.push((format!("policy.{}", r.key), r.value(x)));
        }
        let spec: PolicySpec = Value::Table(t)
            .try_into()
            .map_err(|e: toml::de::Error| e.message().to_string())?;
        spec.validate()?;
        Ok((assign, spec))
    }

    /// Checks the policy at both ends of every range (and the middle), so that a range
    /// outside a parameter's legal values fails before any work.
    pub fn check(&self) -> std::result::Result<(), String> {
        let d = self.ranges.len();
        for u in [0.0, 0.5, 1.0] {
            self.policy(&vec![u; d]).map_err(|m| {
                let at = self
                    .ranges
                    .iter()
                    .map(|r| format!("{} = {}", r.key, r.value(u)))
                    .collect::<Vec<_>>()
                    .join(", ");
                format!("policies[{}] at {at}: {m}", self.entry)
            })?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn table(s: &str) -> Table {
        toml::from_str(s).unwrap()
    }

    #[test]
    fn ranges_are_searched_and_lists_give_arms() {
        let t =
            table("kind = 'predictive'\nlead_steps = { min = 0, max = 5 }\nquantile = [0.8, 0.9]");
        let ts = Template::all(&[t]).unwrap();
        assert_eq!(ts.len(), 2);
        assert_eq!(ts[1].fixed, vec![("policy.quantile".to_string(), 0.9)]);
        let r = &ts[0].ranges[0];
        assert!(r.integer && r.key == "lead_steps");
        assert_eq!(r.value(0.55), 3.0);
        assert!((r.snap(0.55) - 0.6).abs() < 1e-12);
        // A continuous range: a thousandth of its width apart, without float noise.
        let b = Range {
            key: "buffer".into(),
            min: 1.0,
            max: 1.6,
            integer: false,
            choices: None,
        };
        assert_eq!(b.value(0.123456), 1.0738);
        assert_eq!(b.steps(), 1000);
        assert!((b.snap(0.123456) - 0.123).abs() < 1e-12);
        let (assign, spec) = ts[1].policy(&[0.55]).unwrap();
        assert_eq!(
            assign,
            vec![
                ("policy.quantile".to_string(), 0.9),
                ("policy.lead_steps".to_string(), 3.0)
            ]
        );
        assert_eq!(spec.build().forecast_lead(), Some(3));
        ts[0].check().unwrap();
    }

    #[test]
    fn bad_ranges_are_refused_with_their_key() {
        let e = Template::all(&[table(
            "kind = 'buffered'\nbuffer = { min = 2.0, max = 1.0 }",
        )])
        .unwrap_err();
        assert!(e.contains("`buffer`") && e.contains("min < max"), "{e}");
        let e = Template::all(&[table(
            "kind = 'buffered'\nbuffer = { min = 1.0, max = 2.0, step = 0.1 }",
        )])
        .unwrap_err();
        assert!(e.contains("exactly `min` and `max`"), "{e}");
        let e = Template::all(&[table(
            "kind = 'confidence_aware'\nquantile = { min = 0.995, max = 1.5 }",
        )])
        .unwrap_err();
        assert!(e.contains("`quantile`") && e.contains("no quantile"), "{e}");
        let ts = Template::all(&[table(
            "kind = 'buffered'\nbuffer = { min = -1.0, max = 2.0 }",
        )])
        .unwrap();
        let e = ts[0].check().unwrap_err();
        assert!(e.contains("buffer = -1"), "{e}");
    }

    #[test]
    fn a_quantile_range_is_searched_over_the_levels_forecasts_carry() {
        let ts = Template::all(&[table(
            "kind = 'confidence_aware'\nquantile = { min = 0.5, max = 0.99 }",
        )])
        .unwrap();
        let r = &ts[0].ranges[0];
        assert_eq!(
            r.choices.as_deref(),
            Some(&[0.5, 0.8, 0.9, 0.95, 0.975, 0.99][..])
        );
        assert_eq!(r.steps(), 5);
        assert_eq!(r.value(0.0), 0.5);
        assert_eq!(r.value(0.45), 0.9);
        assert_eq!(r.value(1.0), 0.99);
        assert!((r.snap(0.45) - 0.4).abs() < 1e-12);
        ts[0].check().unwrap();
    }
}
