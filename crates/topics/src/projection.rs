//! Places topics on a plane: the first two principal components of the broad
//! topics' centroids, scaled into the unit square. Nearby topics on the map have
//! similar centroids, and it is deterministic (power iteration from a fixed start).

use crate::cluster::dot;

/// 2-D coordinates in [0, 1]² for each of `points` (`dim` values each), along the
/// axes of `basis` (the points that define the axes; usually the same points).
pub fn project(basis: &[Vec<f32>], points: &[Vec<f32>], dim: usize) -> Vec<[f32; 2]> {
    if basis.is_empty() || points.is_empty() {
        return vec![[0.5, 0.5]; points.len()];
    }
    let mut mean = vec![0.0_f32; dim];
    for point in basis {
        for (m, v) in mean.iter_mut().zip(point) {
            *m += v / basis.len() as f32;
        }
    }
    let centred: Vec<Vec<f32>> = basis
        .iter()
        .map(|p| p.iter().zip(&mean).map(|(v, m)| v - m).collect())
        .collect();
    let first = component(&centred, dim, None);
    let second = component(&centred, dim, Some(&first));
    let raw: Vec<[f32; 2]> = points
        .iter()
        .map(|p| {
            let c: Vec<f32> = p.iter().zip(&mean).map(|(v, m)| v - m).collect();
            [dot(&c, &first), dot(&c, &second)]
        })
        .collect();
    let basis_raw: Vec<[f32; 2]> = centred
        .iter()
        .map(|c| [dot(c, &first), dot(c, &second)])
        .collect();
    // Scale by the basis points' extent, the same on both axes, so distances keep
    // their proportions; points outside it are clamped to the edge.
    let extent = |axis: usize| {
        let values = basis_raw.iter().map(|p| p[axis]);
        let low = values.clone().fold(f32::INFINITY, f32::min);
        let high = values.fold(f32::NEG_INFINITY, f32::max);
        (low, high)
    };
    let (low0, high0) = extent(0);
    let (low1, high1) = extent(1);
    let span = (high0 - low0).max(high1 - low1).max(1e-6);
    raw.iter()
        .map(|p| {
            [
                (0.5 + (p[0] - (low0 + high0) / 2.0) / span).clamp(0.0, 1.0),
                (0.5 + (p[1] - (low1 + high1) / 2.0) / span).clamp(0.0, 1.0),
            ]
        })
        .collect()
}

/// The leading eigenvector of the rows' covariance, orthogonal to `against`.
fn component(rows: &[Vec<f32>], dim: usize, against: Option<&[f32]>) -> Vec<f32> {
    let mut vector: Vec<f32> = (0..dim).map(|i| 1.0 + (i % 7) as f32 / 7.0).collect();
    for _ in 0..100 {
        let mut next = vec![0.0_f32; dim];
        for row in rows {
            let weight = dot(row, &vector);
            for (n, r) in next.iter_mut().zip(row) {
                *n += weight * r;
            }
        }
        if let Some(against) = against {
            let overlap = dot(&next, against);
            for (n, a) in next.iter_mut().zip(against) {
                *n -= overlap * a;
            }
        }
        let norm = dot(&next, &next).sqrt();
        if norm < 1e-12 {
            break;
        }
        next.iter_mut().for_each(|n| *n /= norm);
        vector = next;
    }
    vector
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spreads_points_along_their_main_direction() {
        let points = vec![
            vec![1.0, 0.0, 0.0],
            vec![0.0, 1.0, 0.0],
            vec![0.9, 0.1, 0.0],
            vec![0.1, 0.9, 0.0],
        ];
        let placed = project(&points, &points, 3);
        assert!(placed.iter().flatten().all(|v| (0.0..=1.0).contains(v)));
        // The two near (1,0,0) sit together, away from the two near (0,1,0).
        let distance =
            |a: [f32; 2], b: [f32; 2]| ((a[0] - b[0]).powi(2) + (a[1] - b[1]).powi(2)).sqrt();
        assert!(distance(placed[0], placed[2]) < distance(placed[0], placed[1]));
        assert!(distance(placed[1], placed[3]) < distance(placed[1], placed[0]));
    }
}
