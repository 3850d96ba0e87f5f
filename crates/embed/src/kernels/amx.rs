//! The AMX path: the bf16 GEMM of `avx512` on Intel's tile registers (`tdpbf16ps`).
//!
//! One `tdpbf16ps` multiplies a 16 x 32 bf16 tile of A by a 32 x 16 tile of B into a 16 x 16
//! fp32 tile of C: 8192 multiply-adds in one instruction. B needs no layout of its own: a B
//! tile is 16 rows of 64 bytes, one row per pair of reduction indices holding the two values
//! of 16 columns, which is exactly 16 consecutive pairs of one block of [`Packed`]. So the
//! matrices packed for `avx512` are read here in place.
//!
//! Micro-kernel: 2 x 2 tiles of C (tmm0-3, a 32 x 32 block of the output) fed by two A tiles
//! (tmm4-5) and two B tiles (tmm6-7) per 32 reduction indices. The bias is loaded into C
//! with a row stride of zero (every row reads the same 16 values), so accumulation starts
//! from it. Finished tiles are stored to a scratch block and leave through the fused
//! epilogues of `avx512` ([`Sink`]).
//!
//! The tile instructions are written with `asm!` because Rust's AMX intrinsics are
//! unstable. Linux must first grant the process the tile data state ([`available`] asks
//! once). Each GEMM call loads the tile configuration and releases it at the end, so a
//! thread holds no tile state between calls (nothing extra for a context switch to save).

use std::arch::asm;
use std::sync::OnceLock;

use super::avx512::{self, Output, Packed};
use super::output::Sink;

/// Rows of every tile, and columns of a C tile.
const TILE: usize = 16;
/// Pairs of reduction indices in one A or B tile (a 64-byte row).
const TILE_PAIRS: usize = 16;
/// Reduction indices per tile step: [`gemm`] runs on tiles when the reduction length is a
/// multiple of this, and otherwise falls back to `avx512::gemm`.
pub const REDUCTION_TILE: usize = 2 * TILE_PAIRS;
/// bf16 elements of one B tile: 16 pairs of one 16-column block.
const B_TILE_ELEMENTS: usize = TILE_PAIRS * 32;

/// Whether this CPU and OS can run the AMX path: AMX-TILE and AMX-BF16, AVX-512 BF16 for
/// the rest of the forward pass, and the kernel's permission to use tile data (asked for
/// once per process, here).
pub fn available() -> bool {
    static GRANTED: OnceLock<bool> = OnceLock::new();
    *GRANTED.get_or_init(|| avx512::available() && cpu_has_amx_bf16() && request_tile_data())
}

/// CPUID leaf 7: AMX-BF16 is bit 22 and AMX-TILE bit 24 of EDX (`is_x86_feature_detected!`
/// does not know them on stable Rust).
fn cpu_has_amx_bf16() -> bool {
    use std::arch::x86_64::{__cpuid, __cpuid_count};
    if __cpuid(0).eax < 7 {
        return false;
    }
    let edx = __cpuid_count(7, 0).edx;
    edx & (1 << 22) != 0 && edx & (1 << 24) != 0
}

/// `arch_prctl(ARCH_REQ_XCOMP_PERM, XFEATURE_XTILEDATA)` (Linux 5.16 and later): without
/// this permission the first tile instruction faults. The grant covers the whole process
/// and lasts. The call fails where the kernel or a hypervisor does not enable AMX, so it
/// is also the check that the OS saves tile state.
#[cfg(target_os = "linux")]
fn request_tile_data() -> bool {
    const SYS_ARCH_PRCTL: usize = 158;
    const ARCH_REQ_XCOMP_PERM: usize = 0x1023;
    const XFEATURE_XTILEDATA: usize = 18;
    let result: isize;
    // SAFETY: a system call that only changes this process's permissions; rcx and r11,
    // which `syscall` overwrites, are declared clobbered.
    unsafe {
        asm!(
            "syscall",
            inlateout("rax") SYS_ARCH_PRCTL => result,
            in("rdi") ARCH_REQ_XCOMP_PERM,
            in("rsi") XFEATURE_XTILEDATA,
            lateout("rcx") _,
            lateout("r11") _,
            options(nostack),
        );
    }
    result == 0
}

#[cfg(not(target_os = "linux"))]
fn request_tile_data() -> bool {
    false
}

/// `ldtilecfg`'s 64-byte operand, palette 1.
#[repr(C, align(64))]
struct TileConfig {
    palette: u8,
    start_row: u8,
    reserved: [u8; 14],
    bytes_per_row: [u16; 16],
    rows: [u8; 16],
}

/// This thread's tile configuration while a GEMM runs, released on drop (a panic too).
struct Tiles;

impl Tiles {
    /// Configures all eight tiles as 16 rows of 64 bytes: C (fp32 16 x 16), A (bf16
    /// 16 x 32) and B (16 pairs of 16 columns) alike.
    ///
    /// # Safety
    /// [`available`] must have returned true.
    unsafe fn configure() -> Tiles {
        // Palette 1 has eight tiles; the entries of the other eight must be zero (else #GP).
        let mut config = TileConfig {
            palette: 1,
            start_row: 0,
            reserved: [0; 14],
            bytes_per_row: [0; 16],
            rows: [0; 16],
        };
        config.bytes_per_row[..8].fill(64);
        config.rows[..8].fill(TILE as u8);
        // SAFETY: the caller guarantees AMX is usable; the operand is a valid palette-1
        // configuration.
        unsafe { asm!("ldtilecfg [{}]", in(reg) &config, options(nostack, preserves_flags)) };
        Tiles
    }
}

impl Drop for Tiles {
    fn drop(&mut self) {
        // SAFETY: only reachable after `configure`, which needed AMX.
        unsafe { asm!("tilerelease", options(nostack, preserves_flags)) };
    }
}

/// `tileloadd TILE, [ptr + stride]`: 16 rows of 64 bytes, `stride` bytes apart.
macro_rules! load {
    ($tile:literal, $ptr:expr, $stride:expr) => {
        asm!(
            concat!("tileloadd ", $tile, ", [{ptr} + {stride}*1]"),
            ptr = in(reg) $ptr,
            stride = in(reg) $stride,
            options(nostack, preserves_flags),
        )
    };
}

/// `tilestored [ptr + stride], TILE`.
macro_rules! store {
    ($tile:literal, $ptr:expr, $stride:expr) => {
        asm!(
            concat!("tilestored [{ptr} + {stride}*1], ", $tile),
            ptr = in(reg) $ptr,
            stride = in(reg) $stride,
            options(nostack, preserves_flags),
        )
    };
}

/// `C += A . B` on tiles.
macro_rules! dot {
    ($c:literal, $a:literal, $b:literal) => {
        asm!(
            concat!("tdpbf16ps ", $c, ", ", $a, ", ", $b),
            options(nostack, nomem, preserves_flags),
        )
    };
}

/// `output[m, :] = a[m, 0..2*pairs] . b + bias`, finished as `output` says: the contract
/// of [`avx512::gemm`], which this falls back to when the reduction length is not a
/// multiple of 32 (a tail would need a second tile shape; the models' widths have none).
///
/// Loop order: blocks of 32 rows (outermost: their A stays in L1 while all of B streams
/// from L2, and each block's rows are complete for [`Output::AddNorm`] at its end), then
/// pairs of 16-column blocks.
///
/// # Safety
/// [`available`] must have returned true.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
pub unsafe fn gemm(
    a: &[u16],
    lda: usize,
    m: usize,
    b: &Packed,
    bias: Option<&[f32]>,
    output: Output<'_>,
) {
    if m == 0 || b.blocks == 0 {
        return;
    }
    if !b.pairs.is_multiple_of(TILE_PAIRS) {
        // SAFETY: `available` implies the AVX-512 BF16 features.
        return unsafe { avx512::gemm(a, lda, m, b, bias, output) };
    }
    let columns = b.blocks * 16;
    let k = 2 * b.pairs;
    assert!(a.len() >= (m - 1) * lda + k, "A too short");
    assert!(
        bias.is_none_or(|bias| bias.len() >= columns),
        "bias too short"
    );
    let sink = Sink::new(output, m, columns);
    let mut padded: Vec<u16> = Vec::new();
    // SAFETY: the caller guarantees AMX; dropped (released) when this function returns.
    let _tiles = unsafe { Tiles::configure() };
    for first_row in (0..m).step_by(2 * TILE) {
        let rows = (m - first_row).min(2 * TILE);
        let row_tiles = rows.div_ceil(TILE);
        // An A tile reads 16 whole rows: a short last block is copied and padded with zero
        // rows, whose products are computed and dropped.
        let (rows_a, row_stride) = if rows.is_multiple_of(TILE) {
            (a[first_row * lda..].as_ptr(), lda)
        } else {
            padded.clear();
            padded.resize(row_tiles * TILE * k, 0);
            for (row, out) in padded.chunks_exact_mut(k).take(rows).enumerate() {
                out.copy_from_slice(&a[(first_row + row) * lda..][..k]);
            }
            (padded.as_ptr(), k)
        };
        let mut block = 0;
        while block < b.blocks {
            let blocks = (b.blocks - block).min(2);
            let job = Block {
                a: rows_a,
                lda: row_stride,
                b: b.data[block * b.pairs * 32..].as_ptr(),
                pairs: b.pairs,
                bias: bias.map_or(std::ptr::null(), |bias| bias[block * 16..].as_ptr()),
                sink: &sink,
                row: first_row,
                rows,
                column: block * 16,
            };
            // SAFETY: the asserts above and in `Sink::new` bound every row and column the
            // block touches (A rows come from `a` or the padded copy); AMX is configured.
            unsafe { KERNELS[row_tiles - 1][blocks - 1](&job) };
            block += blocks;
        }
        // SAFETY: these rows are inside the output and every column of them is written.
        unsafe { sink.finish_rows(first_row..first_row + rows) };
    }
}

/// Arguments of one micro-kernel call (raw pointers: bounds are checked by [`gemm`]).
struct Block<'a> {
    /// The first of 16 or 32 rows of A (readable in full, padding included).
    a: *const u16,
    /// Elements between rows of A.
    lda: usize,
    /// The first packed block of B; a second one, if any, follows `pairs * 32` later.
    b: *const u16,
    pairs: usize,
    /// 16 or 32 bias values, or null.
    bias: *const f32,
    sink: &'a Sink<'a>,
    /// First output row and column, and the output rows that exist (up to 32).
    row: usize,
    rows: usize,
    column: usize,
}

type Kernel = unsafe fn(&Block<'_>);

/// By row tiles (1 or 2), then column blocks (1 or 2).
const KERNELS: [[Kernel; 2]; 2] = [
    [micro::<1, 1>, micro::<1, 2>],
    [micro::<2, 1>, micro::<2, 2>],
];

/// 64-byte aligned fp32 C tiles, `[tile][row][column]`, tile `2 * row_tile + column_block`.
#[repr(C, align(64))]
struct Finished([[[f32; TILE]; TILE]; 4]);

/// One `16R x 16C` block of the product on tiles: C in tmm0 (row tile 0, block 0), tmm1
/// (0, 1), tmm2 (1, 0), tmm3 (1, 1); A in tmm4-5; B in tmm6-7.
///
/// # Safety
/// AMX must be configured by [`Tiles::configure`]; `job` must address `16 R` readable rows
/// of A with `2 * pairs` elements (a multiple of 32), `C` packed blocks of B, `16 C` bias
/// values (or null), and `rows` rows of `16 C` outputs inside its sink.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
unsafe fn micro<const R: usize, const C: usize>(job: &Block<'_>) {
    let a_stride = job.lda * 2;
    let (a0, a1) = (job.a, job.a.wrapping_add(TILE * job.lda));
    let (b0, b1) = (job.b, job.b.wrapping_add(job.pairs * 32));
    let (bias0, bias1) = (job.bias, job.bias.wrapping_add(TILE));
    // SAFETY: the contract above bounds every address; pointers to a tile this shape does
    // not use are never dereferenced.
    unsafe {
        if job.bias.is_null() {
            asm!(
                "tilezero tmm0",
                "tilezero tmm1",
                "tilezero tmm2",
                "tilezero tmm3"
            );
        } else {
            load!("tmm0", bias0, 0usize);
            if C == 2 {
                load!("tmm1", bias1, 0usize);
            }
            if R == 2 {
                load!("tmm2", bias0, 0usize);
            }
            if R == 2 && C == 2 {
                load!("tmm3", bias1, 0usize);
            }
        }
        for step in 0..job.pairs / TILE_PAIRS {
            let (a0, a1) = (a0.wrapping_add(32 * step), a1.wrapping_add(32 * step));
            let (b0, b1) = (
                b0.wrapping_add(B_TILE_ELEMENTS * step),
                b1.wrapping_add(B_TILE_ELEMENTS * step),
            );
            load!("tmm4", a0, a_stride);
            load!("tmm6", b0, 64usize);
            dot!("tmm0", "tmm4", "tmm6");
            if C == 2 {
                load!("tmm7", b1, 64usize);
                dot!("tmm1", "tmm4", "tmm7");
            }
            if R == 2 {
                load!("tmm5", a1, a_stride);
                dot!("tmm2", "tmm5", "tmm6");
                if C == 2 {
                    dot!("tmm3", "tmm5", "tmm7");
                }
            }
        }
        let mut finished = Finished([[[0.0; TILE]; TILE]; 4]);
        let out = finished.0.as_mut_ptr();
        store!("tmm0", out, 64usize);
        if C == 2 {
            store!("tmm1", out.add(1), 64usize);
        }
        if R == 2 {
            store!("tmm2", out.add(2), 64usize);
        }
        if R == 2 && C == 2 {
            store!("tmm3", out.add(3), 64usize);
        }
        epilogue::<R, C>(job, &mut finished);
    }
}

/// Hands the existing rows of a finished block to the sink, 16 values at a time.
///
/// # Safety
/// As [`micro`]: the block's rows and columns lie inside its sink.
#[inline(never)]
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512bf16")]
unsafe fn epilogue<const R: usize, const C: usize>(job: &Block<'_>, finished: &mut Finished) {
    for row_tile in 0..R {
        let rows = (job.rows - row_tile * TILE).min(TILE);
        for block in 0..C {
            let tile = &mut finished.0[2 * row_tile + block];
            for (row, values) in tile.iter_mut().take(rows).enumerate() {
                // SAFETY: the caller guarantees the block lies inside the sink.
                unsafe {
                    let dst = job
                        .sink
                        .at(job.row + row_tile * TILE + row, job.column + 16 * block);
                    job.sink.emit(dst, values);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::kernels::output::Norm;
    use crate::kernels::to_bf16;

    fn widen(bits: u16) -> f32 {
        f32::from_bits(u32::from(bits) << 16)
    }

    #[test]
    fn gemm_matches_naive_product_on_bf16_inputs() {
        if !available() {
            papers_testkit::skip("this CPU or OS offers no AMX-BF16, so these kernels cannot run");
            return;
        }
        // Row counts on and off the 16 and 32 boundaries, odd block counts, the reduction
        // lengths of the model (32 for attention scores, 384, 1536), and one (34) that
        // falls back to the AVX-512 kernel.
        for (m, k, n, with_bias) in [
            (1usize, 32usize, 16usize, true),
            (16, 64, 32, false),
            (17, 384, 48, true),
            (33, 96, 80, true),
            (64, 1536, 32, true),
            (45, 32, 208, false),
            (7, 34, 70, true),
        ] {
            let lda = k + 6;
            let a: Vec<u16> = (0..m * lda)
                .map(|i| to_bf16((i as f32 * 0.13).sin()))
                .collect();
            let w: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.07).cos()).collect();
            let bias: Vec<f32> = (0..n.div_ceil(16) * 16).map(|i| i as f32 * 0.01).collect();
            let packed = Packed::from_weight(&w, n, k);
            let ldc = packed.padded_columns() + 16;
            let mut out = vec![f32::NAN; m * ldc];
            let output = Output::F32 {
                data: &mut out,
                ldc,
            };
            // SAFETY: available() was checked above.
            unsafe { gemm(&a, lda, m, &packed, with_bias.then_some(&bias[..]), output) };
            for r in 0..m {
                for j in 0..n {
                    let expected: f32 = (0..k)
                        .map(|i| widen(a[r * lda + i]) * widen(to_bf16(w[j * k + i])))
                        .sum::<f32>()
                        + if with_bias { bias[j] } else { 0.0 };
                    let got = out[r * ldc + j];
                    assert!(
                        (got - expected).abs() < 1e-3 * (1.0 + expected.abs()),
                        "m {m} k {k} n {n}: ({r},{j}) {got} vs {expected}"
                    );
                }
                // Columns past the padded width are not written.
                assert!(out[r * ldc + packed.padded_columns()].is_nan());
            }
        }
    }

    #[test]
    fn fused_add_norm_matches_the_avx512_kernel() {
        if !available() {
            papers_testkit::skip("this CPU or OS offers no AMX-BF16, so these kernels cannot run");
            return;
        }
        let (m, k, n) = (37, 128, 64);
        let a: Vec<u16> = (0..m * k)
            .map(|i| to_bf16((i as f32 * 0.11).sin()))
            .collect();
        let w: Vec<f32> = (0..n * k).map(|i| (i as f32 * 0.05).cos() * 0.2).collect();
        let bias: Vec<f32> = (0..n).map(|c| 0.01 * c as f32).collect();
        let gain: Vec<f32> = (0..n).map(|c| 1.0 + 0.01 * c as f32).collect();
        let shift: Vec<f32> = (0..n).map(|c| -0.02 * c as f32).collect();
        let residual: Vec<f32> = (0..m * n).map(|i| (i as f32 * 0.3).cos()).collect();
        let packed = Packed::from_weight(&w, n, k);
        let run = |kernel: avx512::Gemm| {
            let mut hidden = residual.clone();
            let mut hidden_bf16 = vec![0u16; m * n];
            let output = Output::AddNorm {
                data: &mut hidden,
                ldc: n,
                norm: Norm {
                    gain: &gain,
                    shift: &shift,
                    eps: 1e-12,
                },
                bf16: &mut hidden_bf16,
            };
            // SAFETY: available() covers both kernels' features.
            unsafe { kernel(&a, k, m, &packed, Some(&bias), output) };
            (hidden, hidden_bf16)
        };
        let (tiles, tiles_bf16) = run(gemm);
        let (vectors, _) = run(avx512::gemm);
        for (got, want) in tiles.iter().zip(&vectors) {
            assert!(
                (got - want).abs() < 1e-3 * (1.0 + want.abs()),
                "{got} vs {want}"
            );
        }
        for (bits, value) in tiles_bf16.iter().zip(&tiles) {
            assert_eq!(*bits, to_bf16(*value));
        }
    }
}
