//! Two-objective Pareto fronts and their hypervolume (both objectives minimised).

/// Indices of the points no other point dominates (`a` dominates `b` when it is no worse
/// in both objectives and better in one), sorted by the first objective. Of equal points
/// the first is kept.
pub fn front(points: &[[f64; 2]]) -> Vec<usize> {
    let mut idx: Vec<usize> = (0..points.len())
        .filter(|&i| points[i].iter().all(|v| v.is_finite()))
        .collect();
    // By the first objective, ties by the second, then by index (stable, deterministic).
    idx.sort_by(|&a, &b| {
        points[a][0]
            .total_cmp(&points[b][0])
            .then(points[a][1].total_cmp(&points[b][1]))
            .then(a.cmp(&b))
    });
    let mut out: Vec<usize> = Vec::new();
    let mut best = f64::INFINITY;
    for i in idx {
        if points[i][1] < best {
            best = points[i][1];
            out.push(i);
        }
    }
    out
}

/// The area dominated by `points` and bounded by `reference` (points not better than the
/// reference in both objectives add nothing).
pub fn hypervolume(points: &[[f64; 2]], reference: [f64; 2]) -> f64 {
    let inside: Vec<[f64; 2]> = points
        .iter()
        .copied()
        .filter(|p| p[0] < reference[0] && p[1] < reference[1])
        .collect();
    let mut hv = 0.0;
    let mut ceiling = reference[1];
    for i in front(&inside) {
        let p = inside[i];
        hv += (reference[0] - p[0]) * (ceiling - p[1]);
        ceiling = p[1];
    }
    hv
}

/// The additive ε by which `p` misses being non-dominated: the least amount to take off
/// both objectives (in units of `scale`) for no point of `front` to dominate it; 0 when
/// nothing dominates it.
pub fn dominated_by(p: [f64; 2], front: &[[f64; 2]], scale: [f64; 2]) -> f64 {
    front
        .iter()
        .filter(|q| q[0] <= p[0] && q[1] <= p[1])
        .map(|q| ((p[0] - q[0]) / scale[0]).min((p[1] - q[1]) / scale[1]))
        .fold(0.0, f64::max)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_front_keeps_the_non_dominated_points() {
        let pts = [
            [1.0, 5.0],
            [2.0, 3.0],
            [2.5, 3.5],
            [3.0, 1.0],
            [1.0, 6.0],
            [4.0, 1.0],
        ];
        assert_eq!(front(&pts), vec![0, 1, 3]);
    }

    #[test]
    fn hypervolume_of_a_staircase() {
        // Rectangles to (5, 5): (5-1)·(5-4) + (5-2)·(4-2) + (5-4)·(2-0) = 4 + 6 + 2.
        let pts = [[1.0, 4.0], [2.0, 2.0], [4.0, 0.0], [3.0, 3.0], [6.0, -1.0]];
        assert_eq!(hypervolume(&pts, [5.0, 5.0]), 12.0);
        assert_eq!(hypervolume(&[], [5.0, 5.0]), 0.0);
        assert_eq!(hypervolume(&[[5.0, 1.0]], [5.0, 5.0]), 0.0);
    }

    #[test]
    fn hypervolume_matches_a_monte_carlo_estimate() {
        use rand::{Rng, SeedableRng};
        let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(3);
        let pts: Vec<[f64; 2]> = (0..30)
            .map(|_| [rng.random::<f64>(), rng.random::<f64>()])
            .collect();
        let exact = hypervolume(&pts, [1.0, 1.0]);
        let n = 200_000;
        let hits = (0..n)
            .filter(|_| {
                let z = [rng.random::<f64>(), rng.random::<f64>()];
                pts.iter().any(|p| p[0] <= z[0] && p[1] <= z[1])
            })
            .count();
        let mc = hits as f64 / n as f64;
        assert!(
            (exact - mc).abs() < 0.005,
            "exact {exact}, Monte Carlo {mc}"
        );
    }

    #[test]
    fn distance_to_a_dominating_front() {
        let f = [[1.0, 1.0]];
        assert_eq!(dominated_by([3.0, 2.0], &f, [1.0, 1.0]), 1.0);
        assert_eq!(dominated_by([0.5, 2.0], &f, [1.0, 1.0]), 0.0);
    }
}
