//! Stored vectors with the structure of real embeddings, for the SCALE TEST.
//!
//! Random unit vectors have no structure: every point is about equally far from
//! every other, so an HNSW insert visits far more nodes than with real embeddings
//! (about 3.9 times the cost per insert at 20,000 papers), which makes a build on
//! them a worst case, not what a node stores. A synthetic record is recombined from
//! two real records `a` and `b` (half of each one's title and abstract, see
//! `generate`), so its vector here is what its text is made of: the real reference
//! embeddings of `a` and `b` (all-MiniLM-L6-v2, the model the embedder matches)
//! summed, plus a little noise so that no two papers share a vector, normalised.
//! The embedding of the recombined text itself would need the embedder for every
//! synthetic paper, which is what the scale test leaves out.

use std::path::Path;

use anyhow::{Context, bail};

use super::{SplitMix, sources};

/// Length of the noise added to the sum of the two reference vectors (whose length
/// is 1.3-1.6 for the cosines of unrelated papers): enough to make every vector
/// distinct, small against the distances between papers.
const NOISE: f32 = 0.1;

/// The reference embeddings, one row per line of the real Kaggle file.
pub struct Reference {
    dim: usize,
    rows: Vec<f32>,
}

impl Reference {
    /// Reads `vectors.f16` (little-endian f16 rows of `dim`), which must hold one
    /// row per record of the `real` records the synthetic ones were made from.
    pub fn read(path: &Path, dim: usize, real: usize) -> anyhow::Result<Reference> {
        let bytes = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
        if bytes.len() != real * dim * 2 {
            bail!(
                "{} holds {} bytes, not {real} rows of {dim} f16 values",
                path.display(),
                bytes.len()
            );
        }
        let rows = bytes
            .chunks_exact(2)
            .map(|b| half::f16::from_le_bytes([b[0], b[1]]).to_f32())
            .collect();
        Ok(Reference { dim, rows })
    }

    pub fn len(&self) -> usize {
        self.rows.len() / self.dim
    }

    /// Row `i` as it is (a real paper's own embedding).
    pub fn row(&self, i: usize) -> &[f32] {
        &self.rows[i * self.dim..][..self.dim]
    }

    /// The vector of synthetic record `i` (see the module comment).
    pub fn mixed(&self, i: usize, random: &mut SplitMix) -> Vec<f32> {
        let (a, b) = sources(i, self.len());
        let noise = random.unit(self.dim);
        let sum: Vec<f32> = self
            .row(a)
            .iter()
            .zip(self.row(b))
            .zip(&noise)
            .map(|((x, y), z)| x + y + NOISE * z)
            .collect();
        let norm = sum.iter().map(|x| x * x).sum::<f32>().sqrt();
        sum.iter().map(|x| x / norm).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dot(a: &[f32], b: &[f32]) -> f32 {
        a.iter().zip(b).map(|(x, y)| x * y).sum()
    }

    /// A mixed vector is a unit vector near both of its sources and far from an
    /// unrelated paper: the structure the graph is built on.
    #[test]
    fn mixed_vectors_lie_between_their_sources() {
        let (dim, real) = (384, 50);
        let mut random = SplitMix(1);
        let rows = (0..real).flat_map(|_| random.unit(dim)).collect();
        let reference = Reference { dim, rows };
        for i in 0..20 {
            let vector = reference.mixed(i, &mut random);
            assert!((dot(&vector, &vector) - 1.0).abs() < 1e-4);
            let (a, b) = sources(i, real);
            if a == b {
                continue;
            }
            let unrelated = (0..real).find(|&r| r != a && r != b).unwrap_or_default();
            let (near_a, near_b) = (
                dot(&vector, reference.row(a)),
                dot(&vector, reference.row(b)),
            );
            assert!(
                near_a > 0.6 && near_b > 0.6,
                "record {i}: {near_a} {near_b}"
            );
            assert!(
                dot(&vector, reference.row(unrelated)).abs() < 0.5,
                "record {i}"
            );
        }
    }
}
