//! What a GEMM does with each finished value on its way out: the fused epilogues.
//!
//! Both GEMMs (bf16 on AVX-512, fp32 on AVX2) add the bias while their accumulators are
//! still in registers and then hand each run of finished values to [`Sink::emit`], which
//! applies the activation, adds to the residual stream or rounds to bf16 before the single
//! store. Nothing is written in fp32 only to be read back for GELU or a conversion, and the
//! residual add happens in the epilogue, so the layer norm that follows is one pass over
//! rows that are still in cache ([`Output::AddNorm`]).

use super::{add_layer_norm, gelu, to_bf16};

/// A layer norm's parameters.
#[derive(Debug, Clone, Copy)]
pub struct Norm<'a> {
    /// Per-column gain.
    pub gain: &'a [f32],
    /// Per-column shift.
    pub shift: &'a [f32],
    /// Added to the variance.
    pub eps: f32,
}

/// Where and in which form a GEMM writes `x = a . b + bias`; rows have stride `ldc`.
#[derive(Debug)]
pub enum Output<'a> {
    /// `out = x` in fp32.
    F32 { data: &'a mut [f32], ldc: usize },
    /// `out = gelu(x)` in fp32.
    GeluF32 { data: &'a mut [f32], ldc: usize },
    /// `out = bf16(x)`.
    Bf16 { data: &'a mut [u16], ldc: usize },
    /// `out = bf16(gelu(x))`: the feed-forward expansion, ready for the next GEMM.
    GeluBf16 { data: &'a mut [u16], ldc: usize },
    /// `out = LayerNorm(out + x)` row by row (the residual stream updated in place), also
    /// written as bf16 to `bf16` unless it is empty. The GEMM must produce whole rows.
    AddNorm {
        data: &'a mut [f32],
        ldc: usize,
        norm: Norm<'a>,
        bf16: &'a mut [u16],
    },
}

/// The kind of [`Output`], without the borrow.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    F32,
    GeluF32,
    Bf16,
    GeluBf16,
    Add,
}

/// An [`Output`] as raw parts for the micro-kernels, which write disjoint tiles.
#[derive(Debug)]
pub struct Sink<'a> {
    base: *mut u8,
    ldc: usize,
    kind: Kind,
    norm: Option<(Norm<'a>, *mut u16)>,
}

impl<'a> Sink<'a> {
    /// Checks that `output` holds `rows` rows of `columns` values and takes it apart.
    ///
    /// # Panics
    /// If the output is too short, or an [`Output::AddNorm`] does not cover whole rows.
    pub fn new(output: Output<'a>, rows: usize, columns: usize) -> Sink<'a> {
        let need = |ldc: usize| (rows - 1) * ldc + columns;
        let (base, ldc, kind, norm) = match output {
            Output::F32 { data, ldc } => {
                assert!(data.len() >= need(ldc), "C too short");
                (data.as_mut_ptr().cast::<u8>(), ldc, Kind::F32, None)
            }
            Output::GeluF32 { data, ldc } => {
                assert!(data.len() >= need(ldc), "C too short");
                (data.as_mut_ptr().cast::<u8>(), ldc, Kind::GeluF32, None)
            }
            Output::Bf16 { data, ldc } => {
                assert!(data.len() >= need(ldc), "C too short");
                (data.as_mut_ptr().cast::<u8>(), ldc, Kind::Bf16, None)
            }
            Output::GeluBf16 { data, ldc } => {
                assert!(data.len() >= need(ldc), "C too short");
                (data.as_mut_ptr().cast::<u8>(), ldc, Kind::GeluBf16, None)
            }
            Output::AddNorm {
                data,
                ldc,
                norm,
                bf16,
            } => {
                assert!(data.len() >= need(ldc), "C too short");
                assert!(
                    norm.gain.len() == columns && norm.shift.len() == columns,
                    "the layer norm must cover whole rows"
                );
                assert!(bf16.is_empty() || bf16.len() >= need(ldc), "bf16 too short");
                let bf16 = if bf16.is_empty() {
                    std::ptr::null_mut()
                } else {
                    bf16.as_mut_ptr()
                };
                let base = data.as_mut_ptr().cast::<u8>();
                (base, ldc, Kind::Add, Some((norm, bf16)))
            }
        };
        Sink {
            base,
            ldc,
            kind,
            norm,
        }
    }

    /// What this sink does with each value (for kernels that finish tiles in registers).
    #[inline(always)]
    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Address of element `(row, column)`.
    ///
    /// # Safety
    /// The element must lie inside the output checked by [`Sink::new`].
    #[inline(always)]
    pub unsafe fn at(&self, row: usize, column: usize) -> *mut u8 {
        let size = match self.kind {
            Kind::Bf16 | Kind::GeluBf16 => 2,
            Kind::F32 | Kind::GeluF32 | Kind::Add => 4,
        };
        // SAFETY: the caller keeps the element inside the checked output.
        unsafe { self.base.add((row * self.ldc + column) * size) }
    }

    /// Writes `W` finished values (bias included) to `dst`, an address from [`Sink::at`].
    /// Written as plain loops over a fixed-size array so that, inlined into a kernel
    /// compiled for AVX2 or AVX-512, each arm becomes a few vector instructions.
    ///
    /// # Safety
    /// `dst` must come from [`Sink::at`] with `W` more elements inside the output.
    #[inline(always)]
    pub unsafe fn emit<const W: usize>(&self, dst: *mut u8, values: &mut [f32; W]) {
        // SAFETY (all arms): the caller guarantees `W` elements at `dst`.
        unsafe {
            match self.kind {
                Kind::F32 => std::ptr::copy_nonoverlapping(values.as_ptr(), dst.cast(), W),
                Kind::GeluF32 => {
                    for v in values.iter_mut() {
                        *v = gelu(*v);
                    }
                    std::ptr::copy_nonoverlapping(values.as_ptr(), dst.cast(), W);
                }
                Kind::Add => {
                    let out = std::slice::from_raw_parts_mut(dst.cast::<f32>(), W);
                    for (o, v) in out.iter_mut().zip(values.iter()) {
                        *o += v;
                    }
                }
                Kind::Bf16 | Kind::GeluBf16 => {
                    if self.kind == Kind::GeluBf16 {
                        for v in values.iter_mut() {
                            *v = gelu(*v);
                        }
                    }
                    let mut bits = [0u16; W];
                    for (b, v) in bits.iter_mut().zip(values.iter()) {
                        *b = to_bf16(*v);
                    }
                    std::ptr::copy_nonoverlapping(bits.as_ptr(), dst.cast(), W);
                }
            }
        }
    }

    /// Finishes rows `rows` after every column of them has been emitted: the layer norm of
    /// [`Output::AddNorm`] (a no-op for the other kinds).
    ///
    /// # Safety
    /// The rows must lie inside the output and be written by no one else meanwhile.
    #[inline(always)]
    pub unsafe fn finish_rows(&self, rows: std::ops::Range<usize>) {
        let Some((norm, bf16)) = self.norm else {
            return;
        };
        let width = norm.gain.len();
        for row in rows {
            // SAFETY: the caller guarantees the rows are inside the output and unshared.
            unsafe {
                let values = std::slice::from_raw_parts_mut(self.at(row, 0).cast::<f32>(), width);
                let out = if bf16.is_null() {
                    &mut [][..]
                } else {
                    std::slice::from_raw_parts_mut(bf16.add(row * self.ldc), width)
                };
                add_layer_norm(values, &[], norm.gain, norm.shift, norm.eps, out);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::{avx2, avx512};

    /// `m x n` products of a fixed `m x k` input and `n x k` weight, plus bias, in f64.
    fn products(m: usize, k: usize, n: usize, bf16: bool) -> (Vec<f32>, Vec<f32>, Vec<f32>) {
        let round = |x: f32| {
            if bf16 {
                f32::from_bits(u32::from(to_bf16(x)) << 16)
            } else {
                x
            }
        };
        let a: Vec<f32> = (0..m * k).map(|i| round((i as f32 * 0.13).sin())).collect();
        let w: Vec<f32> = (0..n * k)
            .map(|i| round((i as f32 * 0.07).cos() * 0.2))
            .collect();
        let mut expected = vec![0.0f32; m * n];
        for r in 0..m {
            for c in 0..n {
                let dot: f64 = (0..k)
                    .map(|i| f64::from(a[r * k + i]) * f64::from(w[c * k + i]))
                    .sum();
                expected[r * n + c] = dot as f32 + 0.01 * c as f32;
            }
        }
        (a, w, expected)
    }

    /// What [`Output::AddNorm`] must produce from `residual + x`.
    fn add_norm(residual: &[f32], x: &[f32], n: usize, gain: &[f32], shift: &[f32]) -> Vec<f32> {
        let mut rows: Vec<f32> = residual.iter().zip(x).map(|(r, x)| r + x).collect();
        for row in rows.chunks_exact_mut(n) {
            add_layer_norm(row, &[], gain, shift, 1e-12, &mut []);
        }
        rows
    }

    #[test]
    fn fused_epilogues_match_separate_passes() {
        let (m, k, n) = (19, 40, 48);
        let bias: Vec<f32> = (0..n).map(|c| 0.01 * c as f32).collect();
        let gain: Vec<f32> = (0..n).map(|c| 1.0 + 0.01 * c as f32).collect();
        let shift: Vec<f32> = (0..n).map(|c| -0.02 * c as f32).collect();
        let residual: Vec<f32> = (0..m * n).map(|i| (i as f32 * 0.3).cos()).collect();
        let norm = Norm {
            gain: &gain,
            shift: &shift,
            eps: 1e-12,
        };
        let close = |got: f32, want: f32| (got - want).abs() < 2e-3 * (1.0 + want.abs());
        if avx2::available() {
            let (a, w, expected) = products(m, k, n, false);
            let packed = avx2::Packed::from_weight(&w, n, k);
            let mut out = vec![0.0f32; m * n];
            let output = Output::GeluF32 {
                data: &mut out,
                ldc: n,
            };
            // SAFETY (both): the CPU features were checked.
            unsafe { avx2::gemm(&a, k, m, &packed, Some(&bias), output) };
            for (got, want) in out.iter().zip(&expected) {
                assert!(close(*got, gelu(*want)), "gelu: {got} vs {}", gelu(*want));
            }
            let mut hidden = residual.clone();
            let output = Output::AddNorm {
                data: &mut hidden,
                ldc: n,
                norm,
                bf16: &mut [],
            };
            unsafe { avx2::gemm(&a, k, m, &packed, Some(&bias), output) };
            let want = add_norm(&residual, &expected, n, &gain, &shift);
            for (got, want) in hidden.iter().zip(&want) {
                assert!(close(*got, *want), "add+norm: {got} vs {want}");
            }
        } else {
            eprintln!("skipping the AVX2 half: no AVX2 + FMA");
        }
        if avx512::available() {
            let (a, w, expected) = products(m, k, n, true);
            let a: Vec<u16> = a.iter().map(|x| to_bf16(*x)).collect();
            let packed = avx512::Packed::from_weight(&w, n, k);
            let widen = |bits: u16| f32::from_bits(u32::from(bits) << 16);
            let mut out = vec![0u16; m * n];
            let output = Output::GeluBf16 {
                data: &mut out,
                ldc: n,
            };
            // SAFETY (both): the CPU features were checked.
            unsafe { avx512::gemm(&a, k, m, &packed, Some(&bias), output) };
            for (got, want) in out.iter().zip(&expected) {
                let (got, want) = (widen(*got), gelu(*want));
                assert!(
                    (got - want).abs() < 1e-2 * (1.0 + want.abs()),
                    "{got} vs {want}"
                );
            }
            let mut hidden = residual.clone();
            let mut hidden_bf16 = vec![0u16; m * n];
            let output = Output::AddNorm {
                data: &mut hidden,
                ldc: n,
                norm,
                bf16: &mut hidden_bf16,
            };
            unsafe { avx512::gemm(&a, k, m, &packed, Some(&bias), output) };
            let want = add_norm(&residual, &expected, n, &gain, &shift);
            for ((got, bits), want) in hidden.iter().zip(&hidden_bf16).zip(&want) {
                assert!(close(*got, *want), "add+norm: {got} vs {want}");
                assert_eq!(*bits, to_bf16(*got));
            }
        } else {
            eprintln!("skipping the AVX-512 half: no AVX-512 BF16");
        }
    }
}
