//! Sweep axes: any numeric parameter written as a list becomes an axis, and a
//! table expands into the cartesian product of its axes.

use toml::{Table, Value};

/// One concrete choice of every axis in a table: (dotted key, value) pairs.
pub type Assignment = Vec<(String, f64)>;

fn is_numeric_list(v: &Value) -> bool {
    match v {
        Value::Array(a) => {
            !a.is_empty()
                && a.iter()
                    .all(|x| matches!(x, Value::Integer(_) | Value::Float(_)))
        }
        _ => false,
    }
}

fn as_f64(v: &Value) -> f64 {
    match v {
        Value::Integer(i) => *i as f64,
        Value::Float(f) => *f,
        _ => f64::NAN,
    }
}

/// Calls `f` with the dotted path and value of every non-table value inside `table`,
/// depth-first in key order.
fn walk(table: &Table, prefix: &str, f: &mut impl FnMut(String, &Value)) {
    for (k, v) in table {
        let key = if prefix.is_empty() {
            k.clone()
        } else {
            format!("{prefix}.{k}")
        };
        match v {
            Value::Table(t) => walk(t, &key, f),
            v => f(key, v),
        }
    }
}

/// Paths (dotted) of the numeric lists inside `table`, with their values.
fn find_axes(table: &Table) -> Vec<(String, Vec<Value>)> {
    let mut out = Vec::new();
    walk(table, "", &mut |key, v| {
        if is_numeric_list(v) {
            out.push((key, v.as_array().unwrap().clone()));
        }
    });
    out
}

fn set_path(table: &mut Table, path: &str, value: Value) {
    let mut parts = path.split('.').peekable();
    let mut cur = table;
    while let Some(p) = parts.next() {
        if parts.peek().is_none() {
            cur.insert(p.to_string(), value);
            return;
        }
        cur = cur
            .get_mut(p)
            .and_then(Value::as_table_mut)
            .expect("axis path exists");
    }
}

/// For an entry that failed to parse: the message when it holds an empty list (`x = []`
/// is neither a value nor a sweep).
pub fn empty_list_message(table: &Table) -> Option<String> {
    let mut keys = Vec::new();
    walk(table, "", &mut |key, v| {
        if matches!(v, Value::Array(a) if a.is_empty()) {
            keys.push(key);
        }
    });
    keys.first()
        .map(|k| format!("`{k} = []` is an empty list: give one value, or several to sweep over"))
}

/// Keys of `table` (dotted) whose values are lists of strings.
pub fn string_lists(table: &Table) -> Vec<String> {
    let mut paths = Vec::new();
    walk(table, "", &mut |key, v| {
        if matches!(v, Value::Array(a) if !a.is_empty() && a.iter().all(Value::is_str)) {
            paths.push(key);
        }
    });
    paths
}

/// For an entry that failed to parse: a note when it holds lists of strings, which
/// might be meant as sweeps (only numeric lists are axes). Empty otherwise.
pub fn sweep_hint(table: &Table) -> String {
    let paths = string_lists(table);
    if paths.is_empty() {
        return String::new();
    }
    format!(
        " (only lists of numbers are sweep axes; lists of strings here: `{}` — to compare \
         string settings, give one entry per value)",
        paths.join("`, `")
    )
}

/// Expands `table` into one table per combination of its numeric lists. Lists of one
/// value become scalars and are not reported as axes.
pub fn expand(table: &Table) -> Vec<(Assignment, Table)> {
    let axes = find_axes(table);
    let mut out: Vec<(Assignment, Table)> = vec![(Vec::new(), table.clone())];
    for (path, values) in axes {
        let mut next = Vec::with_capacity(out.len() * values.len());
        for (assign, t) in &out {
            for v in &values {
                let mut t = t.clone();
                set_path(&mut t, &path, v.clone());
                let mut a = assign.clone();
                if values.len() > 1 {
                    a.push((path.clone(), as_f64(v)));
                }
                next.push((a, t));
            }
        }
        out = next;
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_become_a_cartesian_product() {
        let t: Table =
            toml::from_str("a = [1, 2]\nb = 3\n[n]\nc = [0.5, 0.9, 0.99]\nnames = ['x', 'y']")
                .unwrap();
        let cells = expand(&t);
        assert_eq!(cells.len(), 6);
        assert_eq!(
            cells[0].0,
            vec![("a".to_string(), 1.0), ("n.c".to_string(), 0.5)]
        );
        assert_eq!(cells[5].1["n"]["c"].as_float(), Some(0.99));
        assert!(cells[5].1["n"]["names"].is_array());
        assert_eq!(cells[5].1["a"].as_integer(), Some(2));
    }

    #[test]
    fn string_lists_get_a_sweep_hint() {
        let t: Table =
            toml::from_str("kind = 'prophet'\n[prophet]\noptimizer = ['a', 'b']").unwrap();
        let hint = sweep_hint(&t);
        assert!(hint.contains("`prophet.optimizer`"), "{hint}");
        let t: Table = toml::from_str("a = [1, 2]\nb = 'x'").unwrap();
        assert_eq!(sweep_hint(&t), "");
    }
}
