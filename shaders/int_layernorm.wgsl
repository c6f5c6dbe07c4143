// The integer `layernorm` layer of the fixed-point simulator on the GPU (src/sim/gpu/layernorm.ts prepends
// int_requant.wgsl, for its 64-bit helpers, and the uniform struct LnP). Bit-identical to layerNormInt
// (src/sim/int/layernorm.ts; docs/fixed-point.md "layer norm"): the same integers, with the CPU's exact doubles
// (< 2^53) held as 64-bit two's complement vec2u here. Two passes:
//   ln_stats  one invocation per row: S1 = Σ x, S2 = Σ x² (64-bit), V = d·S2 − S1², W = V·2^f + Ef, the table's
//             r ≈ 2^24 / sqrt(W / 4^e); writes [S1, r, e − f/2] (r = 0 for a constant row);
//   ln_apply  one invocation per element: t = round_half_up(c·r / 2^shift), c = d·x − S1;
//             y = clamp(round_half_up((t·G[j] + B[j]) / 2^Sg), lo, hi).
// `consts` holds the table (3·2^10 + 1 knots), then G (d words), then B (d pairs of low, high words).
@group(0) @binding(0) var<uniform> p: LnP;
@group(0) @binding(1) var<storage, read> x: array<i32>;
@group(0) @binding(2) var<storage, read> consts: array<i32>;
@group(0) @binding(3) var<storage, read_write> stats_out: array<i32>;
@group(0) @binding(3) var<storage, read> stats: array<i32>;
@group(0) @binding(4) var<storage, read_write> y: array<i32>;

const MANT_BITS: u32 = 22u;
const SEG_BITS: u32 = 10u;
const FRAC: u32 = 12u; // MANT_BITS - SEG_BITS

fn flat_ln(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

// v << s for s in 0..63 (the value stays below 2^63 by the convert-time bounds).
fn shl64(v: vec2u, s: u32) -> vec2u {
  if (s == 0u) { return v; }
  if (s < 32u) { return vec2u(v.x << s, (v.y << s) | (v.x >> (32u - s))); }
  return vec2u(0u, v.x << (s - 32u));
}

// floor(log2 w) of 0 < w < 2^64.
fn bit_length64(w: vec2u) -> u32 {
  if (w.y != 0u) { return 32u + firstLeadingBit(w.y); }
  return firstLeadingBit(w.x);
}

@compute @workgroup_size(256)
fn ln_stats(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let row = flat_ln(gid, groups);
  if (row >= p.rows) { return; }
  let at = row * p.d;
  var s1 = 0;
  var s2 = vec2u(0u, 0u);
  for (var i = 0u; i < p.d; i++) {
    let v = x[at + i];
    s1 += v;                                       // |S1| ≤ d · 2^15 < 2^27
    s2 = add64(s2, vec2u(u32(v * v), 0u));         // x² ≤ 2^30
  }
  // V = d·S2 − S1² (≥ 0, < 2^53)
  let ds2 = add64(mul_u32_wide(s2.x, p.d), vec2u(0u, s2.y * p.d));
  let v = add64(ds2, neg64(mul_i32_wide(s1, s1)));
  var r = 0;
  var shift = 0u;
  if (v.x != 0u || v.y != 0u) {
    let w = add64(shl64(v, p.pre_shift), vec2u(p.eps_lo, p.eps_hi));
    let e = bit_length64(w) >> 1u;
    // U = floor(W · 2^22 / 4^e) in [2^22, 2^24)
    var u: u32;
    if (2u * e >= MANT_BITS) { u = sra64(w, 2u * e - MANT_BITS).x; } else { u = w.x << (MANT_BITS - 2u * e); }
    let k = (u >> FRAC) - (1u << SEG_BITS);
    let phi = i32(u & ((1u << FRAC) - 1u));
    let a = consts[k];
    // |T[k+1] − T[k]| < 2^14, φ < 2^12: the product fits an i32; >> on i32 is floor
    r = a + (((consts[k + 1u] - a) * phi + (1 << (FRAC - 1u))) >> FRAC);
    shift = e - p.pre_shift / 2u;                  // V ≥ 1: W ≥ 2^f, e ≥ f/2
  }
  stats_out[3u * row] = s1;
  stats_out[3u * row + 1u] = r;
  stats_out[3u * row + 2u] = i32(shift);
}

@compute @workgroup_size(256)
fn ln_apply(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_ln(gid, groups);
  if (i >= p.total) { return; }
  let row = i / p.d;
  let j = i - row * p.d;
  let c = i32(p.d) * x[i] - stats[3u * row];       // |c| ≤ d · 2^16 < 2^28
  // t = round_half_up(c · r / 2^shift): |t| < sqrt(d) · 2^24 < 2^31
  let t = bitcast<i32>(round_shift_half_up64(mul_i32_wide(c, stats[3u * row + 1u]), u32(stats[3u * row + 2u])).x);
  let b = vec2u(bitcast<u32>(consts[p.beta_at + 2u * j]), bitcast<u32>(consts[p.beta_at + 2u * j + 1u]));
  let z = add64(mul_i32_wide(t, consts[p.gamma_at + j]), b);
  y[i] = clamp64(round_shift_half_up64(z, p.out_shift), p.lo, p.hi);
}
