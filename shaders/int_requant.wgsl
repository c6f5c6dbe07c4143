// Integer requantization helpers of the fixed-point simulator on the GPU (functions only, no bindings):
// prepended by src/sim/gpu/kernels.ts to int_dense.wgsl, int_eltwise.wgsl and int_pool.wgsl.
// Bit-identical to src/sim/int/requant.ts (docs/fixed-point.md §2):
//
//  - 'horizon': floor((acc * m + 2^(s-1)) / 2^s), |acc| <= 2^31, 0 <= m < 2^31, 0 <= s <= 63.
//    WGSL has no 64-bit integers: a 64-bit two's complement value is a vec2u (x = low word, y = high word);
//    the 32x32 -> 64-bit product is formed from 16-bit limbs in u32 arithmetic (each partial product < 2^32),
//    with explicit carries. Exact for every input (tests/sim-gpu-requant.test.ts compares with BigInt).
//  - 'pytorch': nearbyint(f32(f32(acc) * M)). The int -> float conversion is done exactly by hand (round half
//    to even to 24 significant bits in integer arithmetic, then an exactly representable conversion), because
//    WGSL lets an implementation pick either neighbour for an inexact int -> float conversion. f32 multiplication
//    is correctly rounded in WGSL and round() is half to even (checked on the adapter by the tests).
//
// Saturation: r + zp is formed in 64 bits and clamped to [lo, hi] (int32 bounds of the output dtype and fused
// activation), so any int32 zero point works and values far outside int32 saturate like the CPU kernel's.

// ---- 64-bit two's complement in two u32 words ----

fn add64(a: vec2u, b: vec2u) -> vec2u {
  let lo = a.x + b.x;
  let carry = select(0u, 1u, lo < a.x);
  return vec2u(lo, a.y + b.y + carry);
}

fn neg64(a: vec2u) -> vec2u {
  let lo = ~a.x + 1u;
  return vec2u(lo, ~a.y + select(0u, 1u, lo == 0u));
}

// Unsigned 32 x 32 -> 64-bit product from 16-bit limbs.
fn mul_u32_wide(a: u32, b: u32) -> vec2u {
  let a0 = a & 0xffffu;
  let a1 = a >> 16u;
  let b0 = b & 0xffffu;
  let b1 = b >> 16u;
  let p00 = a0 * b0; // each < 2^32
  let p01 = a0 * b1;
  let p10 = a1 * b0;
  let p11 = a1 * b1;
  let mid = p01 + p10; // may wrap: the carry is worth 2^48
  let mid_carry = select(0u, 1u, mid < p01);
  let lo = p00 + (mid << 16u);
  let lo_carry = select(0u, 1u, lo < p00);
  let hi = p11 + (mid >> 16u) + (mid_carry << 16u) + lo_carry;
  return vec2u(lo, hi);
}

// |v| as u32 (exact for -2^31 too).
fn abs_u32(v: i32) -> u32 {
  let u = bitcast<u32>(v);
  return select(u, 0u - u, v < 0);
}

// Signed 32 x 32 -> 64-bit product.
fn mul_i32_wide(a: i32, b: i32) -> vec2u {
  let p = mul_u32_wide(abs_u32(a), abs_u32(b));
  return select(p, neg64(p), (a < 0) != (b < 0));
}

// 2^k for k in 0..63.
fn pow2_64(k: u32) -> vec2u {
  if (k < 32u) { return vec2u(1u << k, 0u); }
  return vec2u(0u, 1u << (k - 32u));
}

// Arithmetic shift right by s in 0..63 (floor(v / 2^s)).
fn sra64(v: vec2u, s: u32) -> vec2u {
  if (s == 0u) { return v; }
  let hi = bitcast<i32>(v.y);
  if (s < 32u) {
    return vec2u((v.x >> s) | (v.y << (32u - s)), bitcast<u32>(hi >> s));
  }
  return vec2u(bitcast<u32>(hi >> (s - 32u)), bitcast<u32>(hi >> 31u));
}

// Unsigned a >= b.
fn uge64(a: vec2u, b: vec2u) -> bool {
  return a.y > b.y || (a.y == b.y && a.x >= b.x);
}

// Saturates a 64-bit signed value into [lo, hi] (lo <= hi, int32).
fn clamp64(v: vec2u, lo: i32, hi: i32) -> i32 {
  let h = bitcast<i32>(v.y);
  let l = bitcast<i32>(v.x);
  if (h == (l >> 31u)) { return clamp(l, lo, hi); } // fits in int32
  return select(hi, lo, h < 0);
}

// floor((v + 2^(s-1)) / 2^s): round half up (towards +inf); s = 0 returns v.
fn round_shift_half_up64(v: vec2u, s: u32) -> vec2u {
  if (s == 0u) { return v; }
  return sra64(add64(v, pow2_64(s - 1u)), s);
}

// QNNPACK rounding shift, ties away from zero:
// (v >> s) + (((v & mask) - (v < 0)) > (mask >> 1)), mask = 2^s - 1.
fn round_shift_qnnpack64(v: vec2u, s: u32) -> vec2u {
  if (s == 0u) { return v; }
  let q = sra64(v, s);
  let mask = add64(pow2_64(s), vec2u(0xffffffffu, 0xffffffffu)); // 2^s - 1
  let rem = vec2u(v.x & mask.x, v.y & mask.y);                    // in [0, 2^s)
  let half = pow2_64(s - 1u);
  // rem - neg > half - 1  <=>  rem >= half (v >= 0), rem > half (v < 0)
  let neg = bitcast<i32>(v.y) < 0;
  let up = select(uge64(rem, half), uge64(rem, add64(half, vec2u(1u, 0u))), neg);
  return add64(q, vec2u(select(0u, 1u, up), 0u));
}

// ---- requantization of one int32 accumulator ----

// 'horizon': floor((acc * m + 2^(s-1)) / 2^s) as a 64-bit value (exact; |result| < 2^63).
fn mul_shift_round64(acc: i32, m: u32, s: u32) -> vec2u {
  var p = mul_u32_wide(abs_u32(acc), m);
  if (acc < 0) { p = neg64(p); }
  return round_shift_half_up64(p, s);
}

// Sign extension of an i32 to 64 bits.
fn sext64(v: i32) -> vec2u {
  return vec2u(bitcast<u32>(v), select(0u, 0xffffffffu, v < 0));
}

// Exact f32(v): round half to even to 24 significant bits in integer arithmetic.
fn i32_to_f32_rne(v: i32) -> f32 {
  let mag = abs_u32(v);
  var r = mag;
  if (mag >= 16777216u) {
    let k = firstLeadingBit(mag) - 23u; // 1..8
    let q = mag >> k;
    let rem = mag & ((1u << k) - 1u);
    let half = 1u << (k - 1u);
    let up = rem > half || (rem == half && (q & 1u) == 1u);
    r = (q + select(0u, 1u, up)) << k; // <= 2^31, at most 24 significant bits: exactly representable
  }
  let f = f32(r);
  return select(f, -f, v < 0);
}

// 'pytorch': nearbyint(f32(f32(acc) * M)) as a 64-bit integer, clamped to [-2^32, 2^32] first (beyond that every
// int32 zero point and bound saturates the same way). The split into 16-bit halves is exact (integer-valued floats,
// power-of-two division).
fn requant_pytorch64(acc: i32, M: f32) -> vec2u {
  let y = clamp(round(i32_to_f32_rne(acc) * M), -4294967296.0, 4294967296.0); // NaN never occurs (M finite)
  let yh = floor(y / 65536.0);          // [-65536, 65536]
  let yl = u32(y - yh * 65536.0);       // [0, 65536)
  let h = i32(yh);
  let hs = sext64(h);
  return add64(vec2u(bitcast<u32>(h) << 16u, (hs.y << 16u) | (bitcast<u32>(h) >> 16u)), vec2u(yl, 0u));
}

// Requantization selected by mode (0 = none: the accumulator, 1 = horizon, 2 = pytorch), then + zp and saturation
// into [lo, hi]. `mult` is the multiplier's bits (u32 for horizon, f32 bits for pytorch).
fn requant_mode(acc: i32, mode: u32, mult: i32, shift: i32, zp: i32, lo: i32, hi: i32) -> i32 {
  var r = sext64(acc);
  if (mode == 1u) { r = mul_shift_round64(acc, bitcast<u32>(mult), bitcast<u32>(shift)); }
  if (mode == 2u) { r = requant_pytorch64(acc, bitcast<f32>(mult)); }
  return clamp64(add64(r, sext64(zp)), lo, hi);
}
