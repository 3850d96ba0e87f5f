//! Dot products of an f32 query with blocks of f16 rows: the inner loop of the
//! exact dense scan.
//!
//! The scan is bound by memory bandwidth, which is why vectors are f16 (half the
//! bytes of f32, and recall-neutral at 384 dimensions). The conversion to f32 and
//! the multiply-adds use AVX-512 or AVX2+F16C+FMA when the CPU has them, chosen
//! once at run time; a portable loop covers everything else and is the reference
//! the vectorised kernels are tested against.

use half::f16;

/// Computes `out[i] = query · block[i·dim .. (i+1)·dim]`.
pub(crate) type DotsFn = fn(query: &[f32], block: &[f16], out: &mut [f32]);

/// The fastest kernel this CPU supports.
pub(crate) fn best() -> (DotsFn, &'static str) {
    #[cfg(target_arch = "x86_64")]
    {
        if std::arch::is_x86_feature_detected!("avx512f") {
            return (x86::dots_avx512_entry, "avx512");
        }
        if std::arch::is_x86_feature_detected!("avx2")
            && std::arch::is_x86_feature_detected!("f16c")
            && std::arch::is_x86_feature_detected!("fma")
        {
            return (x86::dots_avx2_entry, "avx2+f16c+fma");
        }
    }
    (dots_portable, "portable")
}

pub(crate) fn dots_portable(query: &[f32], block: &[f16], out: &mut [f32]) {
    let dim = query.len();
    for (row, slot) in block.chunks_exact(dim).zip(out.iter_mut()) {
        // Eight independent sums let the compiler vectorise without reassociating.
        let mut sums = [0.0_f32; 8];
        let mut q = query.chunks_exact(8);
        let mut r = row.chunks_exact(8);
        for (qc, rc) in (&mut q).zip(&mut r) {
            for i in 0..8 {
                sums[i] += qc[i] * rc[i].to_f32();
            }
        }
        let mut total: f32 = sums.iter().sum();
        for (a, b) in q.remainder().iter().zip(r.remainder()) {
            total += a * b.to_f32();
        }
        *slot = total;
    }
}

#[cfg(target_arch = "x86_64")]
mod x86 {
    use std::arch::x86_64::*;

    use half::f16;

    pub(super) fn dots_avx512_entry(query: &[f32], block: &[f16], out: &mut [f32]) {
        // SAFETY: `best` returns this entry only after detecting avx512f.
        unsafe { dots_avx512(query, block, out) }
    }

    pub(super) fn dots_avx2_entry(query: &[f32], block: &[f16], out: &mut [f32]) {
        // SAFETY: `best` returns this entry only after detecting avx2, f16c and fma.
        unsafe { dots_avx2(query, block, out) }
    }

    #[target_feature(enable = "avx512f")]
    unsafe fn dots_avx512(query: &[f32], block: &[f16], out: &mut [f32]) {
        let dim = query.len();
        let vectorised = dim - dim % 32;
        for (row, slot) in block.chunks_exact(dim).zip(out.iter_mut()) {
            let mut acc0 = _mm512_setzero_ps();
            let mut acc1 = _mm512_setzero_ps();
            let mut i = 0;
            while i < vectorised {
                // SAFETY: i + 32 <= dim == row.len() == query.len(); loads are unaligned.
                unsafe {
                    let r0 = _mm512_cvtph_ps(_mm256_loadu_si256(row.as_ptr().add(i).cast()));
                    let r1 = _mm512_cvtph_ps(_mm256_loadu_si256(row.as_ptr().add(i + 16).cast()));
                    acc0 = _mm512_fmadd_ps(_mm512_loadu_ps(query.as_ptr().add(i)), r0, acc0);
                    acc1 = _mm512_fmadd_ps(_mm512_loadu_ps(query.as_ptr().add(i + 16)), r1, acc1);
                }
                i += 32;
            }
            let mut total = _mm512_reduce_add_ps(_mm512_add_ps(acc0, acc1));
            for j in vectorised..dim {
                total += query[j] * row[j].to_f32();
            }
            *slot = total;
        }
    }

    #[target_feature(enable = "avx2,f16c,fma")]
    unsafe fn dots_avx2(query: &[f32], block: &[f16], out: &mut [f32]) {
        let dim = query.len();
        let vectorised = dim - dim % 16;
        for (row, slot) in block.chunks_exact(dim).zip(out.iter_mut()) {
            let mut acc0 = _mm256_setzero_ps();
            let mut acc1 = _mm256_setzero_ps();
            let mut i = 0;
            while i < vectorised {
                // SAFETY: i + 16 <= dim == row.len() == query.len(); loads are unaligned.
                unsafe {
                    let r0 = _mm256_cvtph_ps(_mm_loadu_si128(row.as_ptr().add(i).cast()));
                    let r1 = _mm256_cvtph_ps(_mm_loadu_si128(row.as_ptr().add(i + 8).cast()));
                    acc0 = _mm256_fmadd_ps(_mm256_loadu_ps(query.as_ptr().add(i)), r0, acc0);
                    acc1 = _mm256_fmadd_ps(_mm256_loadu_ps(query.as_ptr().add(i + 8)), r1, acc1);
                }
                i += 16;
            }
            let sum = _mm256_add_ps(acc0, acc1);
            let low = _mm256_castps256_ps128(sum);
            let high = _mm256_extractf128_ps(sum, 1);
            let quad = _mm_add_ps(low, high);
            let pair = _mm_add_ps(quad, _mm_movehl_ps(quad, quad));
            let single = _mm_add_ss(pair, _mm_shuffle_ps(pair, pair, 1));
            let mut total = _mm_cvtss_f32(single);
            for j in vectorised..dim {
                total += query[j] * row[j].to_f32();
            }
            *slot = total;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn vectorised_kernels_match_the_portable_one() {
        for dim in [384, 40, 7] {
            let query: Vec<f32> = (0..dim)
                .map(|i| ((i * 37 % 11) as f32 - 5.0) / 7.0)
                .collect();
            let block: Vec<f16> = (0..dim * 5)
                .map(|i| f16::from_f32(((i * 13 % 17) as f32 - 8.0) / 9.0))
                .collect();
            let mut expected = vec![0.0; 5];
            dots_portable(&query, &block, &mut expected);
            let (best, name) = best();
            let mut actual = vec![0.0; 5];
            best(&query, &block, &mut actual);
            for (a, e) in actual.iter().zip(&expected) {
                assert!((a - e).abs() < 1e-3, "{name} dim {dim}: {a} vs {e}");
            }
        }
    }
}
