//! Deterministic sharding: `K/N` picks a subset of a sweep's cells, balanced by
//! estimated cost (longest-processing-time-first), the same on every machine.

use std::fmt;
use std::str::FromStr;

use super::cells::Cell;

/// Shard `index` of `count` (1-based, as `--shard 2/8`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Shard {
    pub index: usize,
    pub count: usize,
}

impl FromStr for Shard {
    type Err = String;
    fn from_str(s: &str) -> Result<Shard, String> {
        let bad = || format!("shard '{s}' is not of the form K/N with 1 <= K <= N, such as 2/8");
        let (k, n) = s.split_once('/').ok_or_else(bad)?;
        let k: usize = k.trim().parse().map_err(|_| bad())?;
        let n: usize = n.trim().parse().map_err(|_| bad())?;
        if n == 0 {
            return Err(format!(
                "shard '{s}': the number of shards must be at least 1"
            ));
        }
        if k == 0 {
            return Err(format!(
                "shard '{s}': shards are numbered from 1, so use 1/{n} to {n}/{n}"
            ));
        }
        if k > n {
            return Err(format!(
                "shard '{s}': there are only {n} shards, so K must be at most {n}"
            ));
        }
        Ok(Shard { index: k, count: n })
    }
}

impl fmt::Display for Shard {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.index, self.count)
    }
}

impl Shard {
    /// Folder-name suffix: `shard-2-of-8`.
    pub fn tag(&self) -> String {
        format!("shard-{}-of-{}", self.index, self.count)
    }

    /// This shard's cells, in cell order. `cost` estimates each cell's work; cells go,
    /// most expensive first (ties by index), to the least-loaded shard (ties by number).
    pub fn select(&self, cells: &[Cell], cost: impl Fn(&Cell) -> f64) -> Vec<Cell> {
        let mut order: Vec<(f64, &Cell)> = cells.iter().map(|c| (cost(c), c)).collect();
        order.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.index.cmp(&b.1.index)));
        let mut load = vec![0.0f64; self.count];
        let mut mine = Vec::new();
        for (c, cell) in order {
            let target = (0..self.count)
                .min_by(|&a, &b| load[a].total_cmp(&load[b]).then(a.cmp(&b)))
                .unwrap();
            load[target] += c;
            if target + 1 == self.index {
                mine.push(*cell);
            }
        }
        mine.sort_by_key(|c| c.index);
        mine
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_specs_are_explained() {
        assert!("0/4"
            .parse::<Shard>()
            .unwrap_err()
            .contains("numbered from 1"));
        assert!("5/4"
            .parse::<Shard>()
            .unwrap_err()
            .contains("only 4 shards"));
        assert!("1/0".parse::<Shard>().unwrap_err().contains("at least 1"));
        assert!("two/4".parse::<Shard>().unwrap_err().contains("K/N"));
        assert_eq!(
            "3/4".parse::<Shard>().unwrap(),
            Shard { index: 3, count: 4 }
        );
    }

    #[test]
    fn shards_partition_the_cells_and_balance_cost() {
        let cells: Vec<Cell> = (0..103)
            .map(|i| Cell {
                index: i,
                sim: i % 3,
                forecaster: None,
                policy: 0,
            })
            .collect();
        let cost = |c: &Cell| if c.sim == 0 { 10.0 } else { 1.0 };
        let mut seen = vec![0; cells.len()];
        let mut loads = Vec::new();
        for k in 1..=4 {
            let mine = Shard { index: k, count: 4 }.select(&cells, cost);
            loads.push(mine.iter().map(cost).sum::<f64>());
            for c in mine {
                seen[c.index] += 1;
            }
        }
        assert!(
            seen.iter().all(|&s| s == 1),
            "every cell in exactly one shard"
        );
        let (lo, hi) = (
            loads.iter().cloned().fold(f64::MAX, f64::min),
            loads.iter().cloned().fold(0.0, f64::max),
        );
        assert!(hi - lo <= 10.0, "{loads:?}");
    }
}
