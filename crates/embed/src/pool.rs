//! Pooling token vectors into one sentence vector, and L2 normalisation.

use crate::config::Pooling;

/// Pools the `len` rows (width `hidden`) of one sequence's final hidden state.
pub fn pool(rows: &[f32], hidden: usize, mode: Pooling) -> Vec<f32> {
    let len = rows.len() / hidden;
    let mut out = vec![0.0f32; hidden];
    match mode {
        Pooling::Cls => out.copy_from_slice(&rows[..hidden]),
        Pooling::Max => {
            out.fill(f32::NEG_INFINITY);
            for row in rows.chunks_exact(hidden) {
                for (o, x) in out.iter_mut().zip(row) {
                    *o = o.max(*x);
                }
            }
        }
        Pooling::Mean | Pooling::MeanSqrtLen => {
            for row in rows.chunks_exact(hidden) {
                for (o, x) in out.iter_mut().zip(row) {
                    *o += x;
                }
            }
            let divisor = if mode == Pooling::Mean {
                len as f32
            } else {
                (len as f32).sqrt()
            };
            for o in &mut out {
                *o /= divisor;
            }
        }
    }
    out
}

/// Scales `vector` to unit length, as sentence-transformers' `Normalize` (eps 1e-12).
pub fn normalize(vector: &mut [f32]) {
    let norm = vector.iter().map(|x| x * x).sum::<f32>().sqrt().max(1e-12);
    for x in vector {
        *x /= norm;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pooling_modes() {
        let rows = [1.0, 2.0, 3.0, -4.0];
        assert_eq!(pool(&rows, 2, Pooling::Cls), vec![1.0, 2.0]);
        assert_eq!(pool(&rows, 2, Pooling::Mean), vec![2.0, -1.0]);
        assert_eq!(pool(&rows, 2, Pooling::Max), vec![3.0, 2.0]);
        let mut v = vec![3.0, 4.0];
        normalize(&mut v);
        assert_eq!(v, vec![0.6, 0.8]);
    }
}
