// The fake-quant model's exact forward of Concat's rescale, Add / Sub and Mul (src/qmath/requant-exact.ts is the CPU
// reference; docs/fixed-point.md §2e). int_requant.wgsl (the simulator's 64-bit helpers) is prepended.
//
// `params` derives, from the float32 scales on the device, the integer parameters convert computes in double
// (computeHorizonMultiplierShift, computeAddParamsHorizon in src/qmath/requant-int.ts). WGSL has no f64: the double
// quotient RN53(n1·n2 / (d1·d2)) of the float32 scales is formed exactly by long division of the 48-bit mantissa
// products (55 quotient bits and a sticky bit, rounded half to even to 53), then rounded half up to the multiplier's
// width as Math.round does. Bernoulli's round(-log2 r) compares the 53-bit mantissa with floor(sqrt(2) · 2^52) (exact
// for the power-of-two ratios of that march; Math.log2 is not specified to the last bit elsewhere).
// `apply` recovers the input integers q = round(x · f32(1/s)) and computes the simulator's integers.

struct PParams {
  op: u32,    // 0 rescale, 1 add, 2 sub, 3 mul, 4 gap
  pow2: u32,  // march bernoulli
  bits: u32,  // multiplier width of rescale / mul / gap
  count: u32, // gap: values per output
}

struct AParams {
  total: u32,
  op: u32,
  inner: u32, // mul: elements of a per value of b; gap: values per output
  lo: i32,
  hi: i32,
  _p0: u32,
  _p1: u32,
  _p2: u32,
}

@group(0) @binding(0) var<uniform> pp: PParams;
@group(0) @binding(1) var<storage, read> qa: array<f32>;
@group(0) @binding(2) var<storage, read> qb: array<f32>;
@group(0) @binding(3) var<storage, read> qo: array<f32>;
// [ma, mb, shift, ok, bits(inv_a), bits(inv_b), bits(s_out), bits(inv_out)]
@group(0) @binding(4) var<storage, read_write> pr: array<u32>;

@group(0) @binding(0) var<uniform> pa: AParams;
@group(0) @binding(1) var<storage, read> xv: array<f32>;
@group(0) @binding(2) var<storage, read> xa: array<f32>;
@group(0) @binding(3) var<storage, read> xb: array<f32>;
@group(0) @binding(4) var<storage, read> prr: array<u32>;
@group(0) @binding(5) var<storage, read_write> y: array<f32>;

// ---- exact double arithmetic on float32 scales ----

struct Mant { m: u32, e: i32 } // x = m · 2^e, m < 2^24

fn split_f32(x: f32) -> Mant {
  let b = bitcast<u32>(x);
  let ex = (b >> 23u) & 0xffu;
  if (ex == 0u) { return Mant(b & 0x7fffffu, -149); }
  return Mant((b & 0x7fffffu) | 0x800000u, i32(ex) - 150);
}

fn bitlen64(v: vec2u) -> u32 {
  if (v.y != 0u) { return 33u + firstLeadingBit(v.y); }
  if (v.x != 0u) { return 1u + firstLeadingBit(v.x); }
  return 0u;
}

fn shl64(v: vec2u, s: u32) -> vec2u {
  if (s == 0u) { return v; }
  if (s < 32u) { return vec2u(v.x << s, (v.y << s) | (v.x >> (32u - s))); }
  return vec2u(0u, v.x << (s - 32u));
}

fn shr64(v: vec2u, s: u32) -> vec2u {
  if (s == 0u) { return v; }
  if (s < 32u) { return vec2u((v.x >> s) | (v.y << (32u - s)), v.y >> s); }
  if (s < 64u) { return vec2u(v.y >> (s - 32u), 0u); }
  return vec2u(0u, 0u);
}

fn sub64(a: vec2u, b: vec2u) -> vec2u { return add64(a, neg64(b)); }

struct Dbl { q: vec2u, x: i32, ok: bool } // value = q · 2^x, 2^52 <= q < 2^53

// RN53((n1 · n2) / (d1 · d2)) for positive float32 values, as a double computes n1 * n2 / (d1 * d2) when both
// products are exact (24-bit mantissas: 48-bit products).
fn ratio(n1: f32, n2: f32, d1: f32, d2: f32) -> Dbl {
  let a = split_f32(n1);
  let b = split_f32(n2);
  let c = split_f32(d1);
  let d = split_f32(d2);
  var n = mul_u32_wide(a.m, b.m);
  var dd = mul_u32_wide(c.m, d.m);
  let ln = bitlen64(n);
  let ld = bitlen64(dd);
  if (ln == 0u || ld == 0u) { return Dbl(vec2u(0u, 0u), 0, false); }
  var t = 0;
  if (ln < ld) { n = shl64(n, ld - ln); t = i32(ld - ln); }
  if (ln > ld) { dd = shl64(dd, ln - ld); t = -i32(ln - ld); }
  if (!uge64(n, dd)) { n = shl64(n, 1u); t += 1; }
  var q = vec2u(0u, 0u);
  for (var i = 0u; i < 55u; i++) {
    q = shl64(q, 1u);
    if (uge64(n, dd)) { n = sub64(n, dd); q.x = q.x | 1u; }
    n = shl64(n, 1u);
  }
  let sticky = n.x != 0u || n.y != 0u;
  let low2 = q.x & 3u;
  var q53 = shr64(q, 2u);
  if (low2 > 2u || (low2 == 2u && (sticky || (q53.x & 1u) == 1u))) { q53 = add64(q53, vec2u(1u, 0u)); }
  var x = -52 - t + a.e + b.e - c.e - d.e;
  if (q53.y == (1u << 21u)) { q53 = vec2u(0u, 1u << 20u); x += 1; }
  return Dbl(q53, x, true);
}

// Math.round(r · 2^shift) for a positive double r whose result is below 2^32 (ok = false otherwise).
struct Rnd { m: u32, ok: bool }
fn round_at(r: Dbl, shift: i32) -> Rnd {
  let j = r.x + shift;
  if (j >= 0) { return Rnd(0u, false); } // >= 2^52
  let d = u32(-j);
  if (d > 63u) { return Rnd(0u, true); }
  let v = shr64(add64(r.q, pow2_64(d - 1u)), d);
  return Rnd(v.x, v.y == 0u);
}

struct MS { m: u32, s: i32, ok: bool }

// computeMultiplierShift(r, bits)
fn multiplier_shift(r: Dbl, bits: u32) -> MS {
  let e = r.x + 52;
  var shift = i32(bits) - 2 - e;
  if (shift > 63) { shift = 63; }
  let rm = round_at(r, shift);
  var m = rm.m;
  if (m >= (1u << (bits - 1u))) { m = m / 2u; shift -= 1; }
  return MS(m, shift, rm.ok && shift >= 0);
}

// Math.round(-Math.log2(r)): -e, or -e - 1 when the mantissa is at least sqrt(2).
fn round_neg_log2(r: Dbl) -> i32 {
  let e = r.x + 52;
  let sqrt2 = vec2u(0x667f3bccu, 0x16a09eu); // floor(sqrt(2) · 2^52) = 6369051672525772
  if (uge64(sqrt2, r.q)) { return -e; }
  return -e - 1;
}

// computeShiftPow2(r)
fn shift_pow2(r: Dbl) -> MS {
  let k = round_neg_log2(r);
  if (k > 63) { return MS(0u, 0, true); }
  if (k >= 0) { return MS(1u, k, true); }
  if (-k > 30) { return MS(0u, 0, false); }
  return MS(1u << u32(-k), 0, true);
}

@compute @workgroup_size(1)
fn params() {
  let sa = qa[0];
  let sb = qb[0];
  let so = qo[0];
  var ma = 0;
  var mb = 0;
  var sh = 0;
  var ok = true;
  if (pp.op == 1u || pp.op == 2u) {
    let ra = ratio(sa, 1.0, so, 1.0);
    let rb = ratio(sb, 1.0, so, 1.0);
    ok = ra.ok && rb.ok;
    if (pp.pow2 == 1u) {
      let ka = round_neg_log2(ra);
      let kb = round_neg_log2(rb);
      sh = max(max(ka, kb), 0);
      if (sh > 63 || sh - min(ka, kb) > 30) { ok = false; } else {
        ma = 1 << u32(sh - ka);
        mb = 1 << u32(sh - kb);
      }
    } else {
      var big = ra;
      if (rb.x > ra.x || (rb.x == ra.x && uge64(rb.q, ra.q) && !all(rb.q == ra.q))) { big = rb; }
      let ms = multiplier_shift(big, 16u);
      sh = ms.s;
      let ra_m = round_at(ra, sh);
      let rb_m = round_at(rb, sh);
      ok = ok && ms.ok && ra_m.ok && rb_m.ok && ra_m.m < 0x80000000u && rb_m.m < 0x80000000u;
      ma = i32(ra_m.m);
      mb = i32(rb_m.m);
    }
    if (pp.op == 2u) { mb = -mb; }
  } else {
    var r: Dbl;
    if (pp.op == 3u) { r = ratio(sa, sb, so, 1.0); } else if (pp.op == 4u) { r = ratio(sa, 1.0, so, f32(pp.count)); } else { r = ratio(sa, 1.0, so, 1.0); }
    var ms: MS;
    if (pp.pow2 == 1u && pp.op != 4u) { ms = shift_pow2(r); } else { ms = multiplier_shift(r, pp.bits); }
    ok = r.ok && ms.ok;
    ma = i32(ms.m);
    sh = ms.s;
  }
  pr[0] = bitcast<u32>(ma);
  pr[1] = bitcast<u32>(mb);
  pr[2] = u32(max(sh, 0));
  pr[3] = select(0u, 1u, ok);
  pr[4] = bitcast<u32>(qa[1]);
  pr[5] = bitcast<u32>(qb[1]);
  pr[6] = bitcast<u32>(so);
  pr[7] = bitcast<u32>(qo[1]);
}

fn flat_i(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn apply(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_i(gid, groups);
  if (i >= pa.total) { return; }
  let so = bitcast<f32>(prr[6]);
  var r: i32;
  if (prr[3] == 0u) {
    r = clamp(i32(round(xv[i] * bitcast<f32>(prr[7]))), pa.lo, pa.hi);
  } else {
    let ma = bitcast<i32>(prr[0]);
    let mb = bitcast<i32>(prr[1]);
    let sh = prr[2];
    if (pa.op == 4u) {
      var sum = 0;
      for (var j = i * pa.inner; j < (i + 1u) * pa.inner; j++) { sum += i32(round(xa[j] * bitcast<f32>(prr[4]))); }
      r = clamp64(mul_shift_round64(sum, u32(ma), sh), pa.lo, pa.hi);
      y[i] = f32(r) * so;
      return;
    }
    let a = i32(round(xa[i] * bitcast<f32>(prr[4])));
    if (pa.op == 0u) {
      r = clamp64(mul_shift_round64(a, u32(ma), sh), pa.lo, pa.hi);
    } else {
      let b = i32(round(xb[i / pa.inner] * bitcast<f32>(prr[5])));
      if (pa.op == 3u) {
        r = clamp64(mul_shift_round64(a * b, u32(ma), sh), pa.lo, pa.hi);
      } else {
        r = clamp64(round_shift_half_up64(add64(mul_i32_wide(a, ma), mul_i32_wide(b, mb)), sh), pa.lo, pa.hi);
      }
    }
  }
  y[i] = f32(r) * so;
}

// ---- integers of a fake-quantized tensor: round(f32(x · inv[c])) ----

struct TParams { total: u32, channels: u32, inner: u32, part: u32 } // part: 0 all, 1 floor(q / 16), 2 q - 16 floor(q / 16)
@group(0) @binding(0) var<uniform> pt: TParams;
@group(0) @binding(1) var<storage, read> tx: array<f32>;
@group(0) @binding(2) var<storage, read> tqp: array<f32>;
@group(0) @binding(3) var<storage, read_write> ty: array<f32>;

@compute @workgroup_size(256)
fn to_int(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_i(gid, groups);
  if (i >= pt.total) { return; }
  let c = (i / pt.inner) % pt.channels;
  let q = round(tx[i] * tqp[3u * c + 1u]);
  let h = floor(q / 16.0); // exact: q an integer-valued float, 16 a power of two
  ty[i] = select(select(q - 16.0 * h, h, pt.part == 1u), q, pt.part == 0u) + 0.0;
}

// ---- conv2d (+ fused add, relu / relu6): parameters per output channel, then the integers ----

struct CParams {
  channels: u32,
  pow2: u32,
  bits: u32,
  has_add: u32,
  has_bias: u32,
  act: u32,   // 0 none, 1 relu, 2 relu6
  qmin: i32,
  qmax: i32,
}
@group(0) @binding(0) var<uniform> pc: CParams;
@group(0) @binding(1) var<storage, read> cqx: array<f32>;
@group(0) @binding(2) var<storage, read> cqw: array<f32>;
@group(0) @binding(3) var<storage, read> cqo: array<f32>;
@group(0) @binding(4) var<storage, read> cqa: array<f32>;
@group(0) @binding(5) var<storage, read> cbias: array<f32>;
@group(0) @binding(6) var<storage, read> cbqp: array<f32>;
// header [bits(inv_a), bits(s_out), bits(inv_out), lo, hi, 0, 0, 0], then per channel [m, s, ma, ka, ok, bias int32]
@group(0) @binding(7) var<storage, read_write> cp: array<u32>;

fn horizon_ms(r: Dbl, pow2: u32, bits: u32) -> MS {
  if (!r.ok) { return MS(0u, 0, false); }
  if (pow2 == 1u) { return shift_pow2(r); }
  return multiplier_shift(r, bits);
}

@compute @workgroup_size(64)
fn conv_params(@builtin(global_invocation_id) gid: vec3u) {
  let o = gid.x;
  if (o >= pc.channels) { return; }
  let sx = cqx[0];
  let sw = cqw[3u * o];
  let so = cqo[0];
  let r = horizon_ms(ratio(sx, sw, so, 1.0), pc.pow2, pc.bits);
  var a = MS(0u, 0, true);
  if (pc.has_add == 1u) { a = horizon_ms(ratio(cqa[0], 1.0, sx, sw), pc.pow2, pc.bits); }
  var qb = 0;
  if (pc.has_bias == 1u) {
    let t = round(cbias[o] * cbqp[3u * o + 1u]);
    qb = select(select(i32(t), -2147483647 - 1, t < -2147483648.0), 2147483647, t >= 2147483648.0);
  }
  let base = 8u + 6u * o;
  cp[base] = r.m;
  cp[base + 1u] = u32(max(r.s, 0));
  cp[base + 2u] = a.m;
  cp[base + 3u] = u32(max(a.s, 0));
  cp[base + 4u] = select(0u, 1u, r.ok && a.ok);
  cp[base + 5u] = bitcast<u32>(qb);
  if (o == 0u) {
    let inv_o = cqo[1];
    let q6 = i32(clamp(round(6.0 * inv_o), -2147483648.0, 2147483520.0));
    var lo = pc.qmin;
    var hi = pc.qmax;
    if (pc.act != 0u) { lo = max(lo, 0); }
    if (pc.act == 2u) { hi = min(hi, q6); }
    cp[0] = bitcast<u32>(select(0.0, cqa[1], pc.has_add == 1u));
    cp[1] = bitcast<u32>(so);
    cp[2] = bitcast<u32>(inv_o);
    cp[3] = bitcast<u32>(lo);
    cp[4] = bitcast<u32>(hi);
  }
}

struct CAParams { total: u32, channels: u32, inner: u32, has_add: u32, qmin: i32, qmax: i32, split: u32, _p1: u32 }
@group(0) @binding(0) var<uniform> pca: CAParams;
@group(0) @binding(1) var<storage, read> cv: array<f32>;
@group(0) @binding(2) var<storage, read> cacc: array<f32>;
@group(0) @binding(3) var<storage, read> cacc_lo: array<f32>;
@group(0) @binding(4) var<storage, read> cadd: array<f32>;
@group(0) @binding(5) var<storage, read> cpr: array<u32>;
@group(0) @binding(6) var<storage, read_write> cy: array<f32>;

@compute @workgroup_size(256)
fn conv_apply(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat_i(gid, groups);
  if (i >= pca.total) { return; }
  let o = (i / pca.inner) % pca.channels;
  let base = 8u + 6u * o;
  let so = bitcast<f32>(cpr[1]);
  var q: i32;
  if (cpr[base + 4u] == 0u) {
    q = clamp(i32(round(cv[i] * bitcast<f32>(cpr[2]))), pca.qmin, pca.qmax);
  } else {
    var s = i32(cacc[i]);
    if (pca.split == 1u) { s = s * 16 + i32(cacc_lo[i]); }
    s = s + bitcast<i32>(cpr[base + 5u]); // int32 wrap-around, as the simulator
    if (pca.has_add == 1u) {
      let qa = i32(round(cadd[i] * bitcast<f32>(cpr[0])));
      s = s + bitcast<i32>(mul_shift_round64(qa, cpr[base + 2u], cpr[base + 3u]).x);
    }
    q = clamp64(mul_shift_round64(s, cpr[base], cpr[base + 1u]), bitcast<i32>(cpr[3]), bitcast<i32>(cpr[4]));
  }
  cy[i] = f32(q) * so;
}
