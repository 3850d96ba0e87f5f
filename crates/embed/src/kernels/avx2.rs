//! The AVX2 path: an fp32 GEMM on AVX2 + FMA, for CPUs without AVX-512 BF16.
//!
//! The same shape as the bf16 kernel (`avx512.rs`) in fp32: B is packed once (weights at
//! load time, keys and values per attention head) into blocks of 16 output columns, each
//! holding, for every reduction index, its 16 column values side by side (two `ymm`
//! registers). The micro-kernel keeps a 6 x 2 grid of 8-wide accumulators (12 of the 16
//! `ymm` registers, the rest for the two B vectors and the broadcast of A), the classic
//! register blocking for this instruction set; panels of B stay in L2 while a block of rows
//! of A passes over them. Results leave through the fused epilogues of [`Output`].

use std::arch::x86_64::{
    __m256, _mm256_add_epi32, _mm256_add_ps, _mm256_and_ps, _mm256_andnot_ps, _mm256_broadcast_ss,
    _mm256_castps_si256, _mm256_castsi256_ps, _mm256_fmadd_ps, _mm256_fnmadd_ps, _mm256_loadu_ps,
    _mm256_max_ps, _mm256_min_ps, _mm256_mul_ps, _mm256_rcp_ps, _mm256_set1_epi32, _mm256_set1_ps,
    _mm256_setzero_ps, _mm256_slli_epi32, _mm256_storeu_ps, _mm256_sub_epi32, _mm256_sub_ps,
    _mm256_xor_ps,
};

pub use super::output::Output;
use super::output::{Kind, Sink};

/// Rows of A per micro-kernel call.
const MR: usize = 6;
/// Columns per packed block (two 8-lane registers).
const BLOCK: usize = 16;
/// Target size in bytes of the packed panel of B kept in L2 across a block of rows of A.
const PANEL_BYTES: usize = 192 * 1024;
/// Target size in bytes of the block of rows of A kept in L2 across all panels of B.
const ROW_BLOCK_BYTES: usize = 384 * 1024;

/// Whether this CPU can run the AVX2 path.
pub fn available() -> bool {
    is_x86_feature_detected!("avx2") && is_x86_feature_detected!("fma")
}

/// A matrix packed for the micro-kernel: `blocks` groups of 16 columns by `depth` indices.
#[derive(Debug, Clone, Default)]
pub struct Packed {
    data: Vec<f32>,
    blocks: usize,
    depth: usize,
}

impl Packed {
    /// Packs `n` columns by `k` reductions; `get(column, index)` returns the value.
    ///
    /// Columns past `n` (up to the next multiple of 16) are zero, so a GEMM over the
    /// padding adds nothing. Reuses this value's allocation.
    #[inline(always)]
    pub fn pack(&mut self, n: usize, k: usize, get: impl Fn(usize, usize) -> f32) {
        self.blocks = n.div_ceil(BLOCK);
        self.depth = k;
        self.data.clear();
        self.data.resize(self.blocks * k * BLOCK, 0.0);
        for block in 0..self.blocks {
            let columns = (n - block * BLOCK).min(BLOCK);
            for index in 0..k {
                let out = &mut self.data[(block * k + index) * BLOCK..][..BLOCK];
                for (lane, value) in out.iter_mut().enumerate().take(columns) {
                    *value = get(block * BLOCK + lane, index);
                }
            }
        }
    }

    /// Packs `n` rows of `k` values (row `j` at `source[j * stride..]`) as `n` columns by `k`
    /// reductions: an attention head's keys.
    pub fn pack_rows(&mut self, source: &[f32], stride: usize, n: usize, k: usize) {
        self.blocks = n.div_ceil(BLOCK);
        self.depth = k;
        self.data.clear();
        self.data.resize(self.blocks * k * BLOCK, 0.0);
        for j in 0..n {
            let row = &source[j * stride..][..k];
            let base = (j / BLOCK) * k * BLOCK + j % BLOCK;
            for (index, value) in row.iter().enumerate() {
                self.data[base + index * BLOCK] = *value;
            }
        }
    }

    /// Packs `k` rows of `n` values (row `j` at `source[j * stride..]`) as `n` columns by
    /// `k` reductions: an attention head's values, 16 contiguous values per copy.
    pub fn pack_columns(&mut self, source: &[f32], stride: usize, n: usize, k: usize) {
        self.blocks = n.div_ceil(BLOCK);
        self.depth = k;
        self.data.clear();
        self.data.resize(self.blocks * k * BLOCK, 0.0);
        for index in 0..k {
            let row = &source[index * stride..][..n];
            for (block, values) in row.chunks(BLOCK).enumerate() {
                self.data[(block * k + index) * BLOCK..][..values.len()].copy_from_slice(values);
            }
        }
    }

    /// Packs a row-major weight matrix `[n, k]` (PyTorch `Linear` layout).
    pub fn from_weight(weight: &[f32], n: usize, k: usize) -> Packed {
        let mut packed = Packed::default();
        packed.pack(n, k, |column, index| weight[column * k + index]);
        packed
    }
}

/// `output[m, :] = a[m, 0..depth] . b + bias`, finished as `output` says, for `m` rows of
/// `a` with stride `lda`. Same loop order as the bf16 GEMM.
///
/// # Safety
/// The CPU must support AVX2 and FMA ([`available`]).
#[target_feature(enable = "avx2,fma")]
pub unsafe fn gemm(
    a: &[f32],
    lda: usize,
    m: usize,
    b: &Packed,
    bias: Option<&[f32]>,
    output: Output<'_>,
) {
    if m == 0 || b.blocks == 0 {
        return;
    }
    let columns = b.blocks * BLOCK;
    assert!(a.len() >= (m - 1) * lda + b.depth, "A too short");
    assert!(
        bias.is_none_or(|bias| bias.len() >= columns),
        "bias too short"
    );
    let sink = Sink::new(output, m, columns);
    let stride = b.depth * BLOCK;
    let panel = (PANEL_BYTES / (stride * 4)).max(1);
    let row_block = (ROW_BLOCK_BYTES / (b.depth * 4).max(1)).max(MR) / MR * MR;
    for first_row in (0..m).step_by(row_block) {
        let last_row = (first_row + row_block).min(m);
        for panel_start in (0..b.blocks).step_by(panel) {
            let panel_end = (panel_start + panel).min(b.blocks);
            for row in (first_row..last_row).step_by(MR) {
                let rows = (last_row - row).min(MR);
                for block in panel_start..panel_end {
                    let tile = Tile {
                        a: a[row * lda..].as_ptr(),
                        lda,
                        b: b.data[block * stride..].as_ptr(),
                        depth: b.depth,
                        bias: bias.map_or(std::ptr::null(), |bias| bias[block * BLOCK..].as_ptr()),
                        sink: &sink,
                        row,
                        column: block * BLOCK,
                    };
                    // SAFETY: the asserts above and in `Sink::new` bound every row and
                    // column the tile touches, and the caller guarantees the CPU features.
                    unsafe { KERNELS[rows - 1](&tile) };
                }
            }
        }
        // SAFETY: these rows are inside the output and every column of them is written.
        unsafe { sink.finish_rows(first_row..last_row) };
    }
}

/// Arguments of one micro-kernel call (raw pointers: bounds are checked by [`gemm`]).
struct Tile<'a> {
    a: *const f32,
    lda: usize,
    b: *const f32,
    depth: usize,
    bias: *const f32,
    sink: &'a Sink<'a>,
    row: usize,
    column: usize,
}

type Kernel = unsafe fn(&Tile<'_>);

/// Every row count, so the last rows run the same code as the interior.
const KERNELS: [Kernel; MR] = [
    micro::<1>, micro::<2>, micro::<3>, micro::<4>, micro::<5>, micro::<6>,
];

/// One `R x 16` tile of the product, accumulated in registers.
///
/// # Safety
/// AVX2 and FMA must be available; `tile` must address `R` readable rows of A with `depth`
/// elements, one packed block of B, 16 bias values (or null), and `R` rows of 16 outputs
/// inside its sink.
#[target_feature(enable = "avx2,fma")]
unsafe fn micro<const R: usize>(tile: &Tile<'_>) {
    // SAFETY: all pointer arithmetic stays inside the regions described in the contract.
    unsafe {
        let mut acc: [[__m256; 2]; R] = [[_mm256_setzero_ps(); 2]; R];
        if !tile.bias.is_null() {
            let bias = [
                _mm256_loadu_ps(tile.bias),
                _mm256_loadu_ps(tile.bias.add(8)),
            ];
            for row in acc.iter_mut() {
                *row = bias;
            }
        }
        let mut a = tile.a;
        let mut b = tile.b;
        for _ in 0..tile.depth {
            let columns = [_mm256_loadu_ps(b), _mm256_loadu_ps(b.add(8))];
            for (i, row) in acc.iter_mut().enumerate() {
                let broadcast = _mm256_broadcast_ss(&*a.add(i * tile.lda));
                for (sum, column) in row.iter_mut().zip(&columns) {
                    *sum = _mm256_fmadd_ps(broadcast, *column, *sum);
                }
            }
            a = a.add(1);
            b = b.add(BLOCK);
        }
        // The fp32 kinds (all this path uses) finish in registers and store once; the
        // bf16 kinds go through the sink's generic epilogue.
        let sink = tile.sink;
        match sink.kind() {
            Kind::F32 | Kind::GeluF32 | Kind::Add => {
                let kind = sink.kind();
                for (i, row) in acc.iter().enumerate() {
                    let dst = sink.at(tile.row + i, tile.column).cast::<f32>();
                    for (half, value) in row.iter().enumerate() {
                        let dst = dst.add(8 * half);
                        let value = match kind {
                            Kind::GeluF32 => gelu(*value),
                            Kind::Add => _mm256_add_ps(_mm256_loadu_ps(dst), *value),
                            _ => *value,
                        };
                        _mm256_storeu_ps(dst, value);
                    }
                }
            }
            Kind::Bf16 | Kind::GeluBf16 => {
                // Spill with constant indices, then run the epilogue on the copy, so that
                // `acc` stays in registers (see the bf16 kernel).
                let mut finished = [[0.0f32; BLOCK]; R];
                for i in 0..R {
                    _mm256_storeu_ps(finished[i].as_mut_ptr(), acc[i][0]);
                    _mm256_storeu_ps(finished[i].as_mut_ptr().add(8), acc[i][1]);
                }
                epilogue(tile, &mut finished);
            }
        }
    }
}

/// `exp(x)` on 8 lanes: the same Cephes reduction and polynomial as the scalar
/// [`super::exp`], with fused multiply-adds.
#[inline(always)]
unsafe fn exp(x: __m256) -> __m256 {
    // SAFETY: register-only intrinsics; the caller guarantees AVX2 and FMA.
    unsafe {
        let shift = _mm256_set1_ps(12_582_912.0);
        let x = _mm256_min_ps(
            _mm256_max_ps(x, _mm256_set1_ps(-87.0)),
            _mm256_set1_ps(88.0),
        );
        let shifted = _mm256_fmadd_ps(x, _mm256_set1_ps(std::f32::consts::LOG2_E), shift);
        let n = _mm256_sub_ps(shifted, shift);
        let n_bits = _mm256_sub_epi32(_mm256_castps_si256(shifted), _mm256_castps_si256(shift));
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(0.693_359_4), x);
        let r = _mm256_fnmadd_ps(n, _mm256_set1_ps(-2.121_944_4e-4), r);
        let mut p = _mm256_set1_ps(1.987_569_1e-4);
        for c in [
            1.398_2e-3,
            8.333_452e-3,
            4.166_579_6e-2,
            1.666_666_5e-1,
            0.5,
        ] {
            p = _mm256_fmadd_ps(p, r, _mm256_set1_ps(c));
        }
        let y = _mm256_fmadd_ps(
            _mm256_mul_ps(p, r),
            r,
            _mm256_add_ps(r, _mm256_set1_ps(1.0)),
        );
        let scale = _mm256_slli_epi32::<23>(_mm256_add_epi32(n_bits, _mm256_set1_epi32(127)));
        _mm256_mul_ps(y, _mm256_castsi256_ps(scale))
    }
}

/// The erf GELU of [`super::gelu`] on 8 lanes, with the division of Abramowitz & Stegun's
/// `t = 1 / (1 + p |x|)` done as a reciprocal estimate and one Newton step (relative
/// error about 2^-22, well inside the formula's own 1.5e-7).
#[inline(always)]
unsafe fn gelu(x: __m256) -> __m256 {
    // SAFETY: register-only intrinsics; the caller guarantees AVX2 and FMA.
    unsafe {
        let one = _mm256_set1_ps(1.0);
        let sign = _mm256_set1_ps(-0.0);
        let z = _mm256_mul_ps(x, _mm256_set1_ps(std::f32::consts::FRAC_1_SQRT_2));
        let a = _mm256_andnot_ps(sign, z);
        let d = _mm256_fmadd_ps(_mm256_set1_ps(0.327_591_1), a, one);
        let t = _mm256_rcp_ps(d);
        let t = _mm256_mul_ps(t, _mm256_fnmadd_ps(d, t, _mm256_set1_ps(2.0)));
        let mut poly = _mm256_set1_ps(1.061_405_4);
        for c in [-1.453_152_1, 1.421_413_8, -0.284_496_74, 0.254_829_6] {
            poly = _mm256_fmadd_ps(poly, t, _mm256_set1_ps(c));
        }
        poly = _mm256_mul_ps(poly, t);
        let y = _mm256_fnmadd_ps(
            poly,
            exp(_mm256_mul_ps(_mm256_sub_ps(_mm256_setzero_ps(), a), a)),
            one,
        );
        let erf = _mm256_xor_ps(y, _mm256_and_ps(z, sign));
        let half = _mm256_mul_ps(x, _mm256_set1_ps(0.5));
        _mm256_fmadd_ps(half, erf, half)
    }
}

/// Hands a finished tile to the sink, one row of 16 values at a time.
///
/// # Safety
/// As [`micro`]: the tile's rows and columns lie inside its sink.
#[inline(never)]
#[target_feature(enable = "avx2,fma")]
unsafe fn epilogue<const R: usize>(tile: &Tile<'_>, finished: &mut [[f32; BLOCK]; R]) {
    for (i, values) in finished.iter_mut().enumerate() {
        // SAFETY: the caller guarantees the tile lies inside the sink.
        unsafe {
            let dst = tile.sink.at(tile.row + i, tile.column);
            tile.sink.emit(dst, values);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn row_and_column_packing_match_the_general_packer() {
        let (stride, n, k) = (40usize, 21usize, 7usize);
        let source: Vec<f32> = (0..30 * stride).map(|i| i as f32).collect();
        let (mut fast, mut general) = (Packed::default(), Packed::default());
        fast.pack_rows(&source, stride, n, k);
        general.pack(n, k, |column, index| source[column * stride + index]);
        assert_eq!(fast.data, general.data);
        fast.pack_columns(&source, stride, n, k);
        general.pack(n, k, |column, index| source[index * stride + column]);
        assert_eq!(fast.data, general.data);
    }

    #[test]
    fn vector_gelu_and_exp_match_the_scalar_ones() {
        if !available() {
            eprintln!("skipping: no AVX2 + FMA");
            return;
        }
        let inputs: Vec<f32> = (-1200..=1200).map(|i| i as f32 / 100.0).collect();
        for chunk in inputs.chunks_exact(8) {
            let (mut g, mut e) = ([0.0f32; 8], [0.0f32; 8]);
            // SAFETY: available() was checked above; the arrays hold 8 lanes.
            unsafe {
                let x = _mm256_loadu_ps(chunk.as_ptr());
                _mm256_storeu_ps(g.as_mut_ptr(), gelu(x));
                _mm256_storeu_ps(e.as_mut_ptr(), exp(x));
            }
            for ((x, g), e) in chunk.iter().zip(g).zip(e) {
                let (want_g, want_e) = (super::super::gelu(*x), super::super::exp(*x));
                assert!(
                    (g - want_g).abs() < 1e-6 * (1.0 + want_g.abs()),
                    "gelu({x})"
                );
                assert!((e - want_e).abs() < 1e-6 * want_e, "exp({x})");
            }
        }
    }

    #[test]
    fn gemm_matches_naive_product() {
        if !available() {
            eprintln!("skipping: no AVX2 + FMA");
            return;
        }
        for (m, k, n) in [(1usize, 1usize, 16usize), (7, 33, 70), (13, 384, 200)] {
            let a: Vec<f32> = (0..m * k).map(|i| (i as f32 * 0.13).sin()).collect();
            let w: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.07).cos()).collect();
            let ldc = n.div_ceil(16) * 16;
            let bias: Vec<f32> = (0..ldc).map(|i| i as f32 * 0.01).collect();
            let packed = Packed::from_weight(&w, n, k);
            let mut out = vec![0.0f32; m * ldc];
            let output = Output::F32 {
                data: &mut out,
                ldc,
            };
            // SAFETY: available() was checked above.
            unsafe { gemm(&a, k, m, &packed, Some(&bias), output) };
            for r in 0..m {
                for j in 0..n {
                    let expected: f32 =
                        (0..k).map(|i| a[r * k + i] * w[j * k + i]).sum::<f32>() + bias[j];
                    let got = out[r * ldc + j];
                    assert!(
                        (got - expected).abs() < 1e-4,
                        "({r},{j}) {got} vs {expected}"
                    );
                }
            }
        }
    }
}
