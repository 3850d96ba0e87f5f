//! The element types a clustering's rows are held in: f32, or f16 widened to f32
//! a row or a block at a time where a dot product needs them.
//!
//! Why f16: at a million papers the corpus's 384-wide vectors take 1.5 GB as f32
//! and 768 MB as f16, and every other part of a build is far smaller. The rounding
//! (11 significant bits, a relative error under 0.05 %) moves a unit vector's dot
//! products by about 1e-4, below the gaps that decide all but a few boundary papers;
//! vectors that were f16 to begin with (the reference vectors) are widened exactly.
//! Centroids, sums and the sampled fits stay f32 (and f64 for sums).

use half::f16;
use half::slice::HalfFloatSliceExt;

/// An element type rows can be held in.
pub trait Element: Copy + Send + Sync + 'static {
    /// Writes `src` widened to f32 into `dst` (of the same length).
    fn widen_into(src: &[Self], dst: &mut [f32]);

    /// `src` itself, when it is f32 already: no copy is needed.
    fn as_f32(src: &[Self]) -> Option<&[f32]>;
}

impl Element for f32 {
    fn widen_into(src: &[f32], dst: &mut [f32]) {
        dst.copy_from_slice(src);
    }

    fn as_f32(src: &[f32]) -> Option<&[f32]> {
        Some(src)
    }
}

impl Element for f16 {
    fn widen_into(src: &[f16], dst: &mut [f32]) {
        // F16C (eight at a time) when the CPU has it, detected once by `half`.
        src.convert_to_f32_slice(dst);
    }

    fn as_f32(_: &[f16]) -> Option<&[f32]> {
        None
    }
}

/// `src` as f32: itself when it is, else widened into `scratch` (reused from call
/// to call, so a pass over many rows allocates once).
pub(crate) fn widened<'a, E: Element>(src: &'a [E], scratch: &'a mut Vec<f32>) -> &'a [f32] {
    if let Some(same) = E::as_f32(src) {
        return same;
    }
    scratch.clear();
    scratch.resize(src.len(), 0.0);
    E::widen_into(src, scratch);
    scratch
}

/// Appends `src` widened to f32 to `dst`.
pub(crate) fn extend_widened<E: Element>(dst: &mut Vec<f32>, src: &[E]) {
    let start = dst.len();
    dst.resize(start + src.len(), 0.0);
    E::widen_into(src, &mut dst[start..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn f16_rows_widen_to_the_values_they_round_to() {
        let values: Vec<f32> = (0..37).map(|i| (i as f32 - 18.0) / 19.0).collect();
        let halves: Vec<f16> = values.iter().map(|&v| f16::from_f32(v)).collect();
        let mut scratch = Vec::new();
        let wide = widened(&halves, &mut scratch);
        for ((wide, half), value) in wide.iter().zip(&halves).zip(&values) {
            assert_eq!(*wide, half.to_f32());
            assert!((wide - value).abs() < 1e-3);
        }
        let mut appended = vec![1.0];
        extend_widened(&mut appended, &halves);
        assert_eq!(&appended[1..], wide);
        // f32 rows are not copied.
        let same = widened(&values, &mut scratch);
        assert_eq!(same.as_ptr(), values.as_ptr());
    }
}
