// The simulator's integer softmax (src/sim/int/tokens.ts softmaxInt) over rows of d values, in two entries
// (int_requant.wgsl's 64-bit helpers prepended; the IntSoftmax struct from src/sim/gpu/softmax.ts):
//  - softmax_stats, one invocation per row: mx = max q, S = Σ table[mx − q] (0 past the table) as a 64-bit sum;
//    stats[3r] = mx, stats[3r + 1 .. 3r + 2] = S.
//  - softmax_out, one invocation per element: out = floor((2·e·recip + S·2^r) / (2·S·2^r)), the CPU's formula,
//    computed as (floor(2·e·recip / S) + 2^r) >> (r + 1) (equal for positive integers: floor(floor(x/a)/b) =
//    floor(x/(ab)), and S·2^r / S is an integer), in exact 64-bit integers; clamped to [lo, hi].
// The CPU computes in doubles, exact below 2^53; src/sim/gpu/softmax.ts refuses a layer whose products could pass
// that, so both are exact integer arithmetic. S = 0 (a table of zeros): the CPU's 0/0 is NaN, stored as 0; here 0.
@group(0) @binding(0) var<uniform> p: IntSoftmax;
@group(0) @binding(1) var<storage, read> x: array<i32>;
@group(0) @binding(2) var<storage, read> table: array<i32>;
@group(0) @binding(3) var<storage, read_write> stats_out: array<u32>;
@group(0) @binding(3) var<storage, read> stats: array<u32>;
@group(0) @binding(4) var<storage, read_write> y: array<i32>;

fn sub64(a: vec2u, b: vec2u) -> vec2u {
  return add64(a, neg64(b));
}

// Unsigned 64-bit floor(n / d), d > 0, by restoring long division (the remainder stays below d < 2^63).
fn div64(n: vec2u, d: vec2u) -> vec2u {
  var q = vec2u(0u, 0u);
  var r = vec2u(0u, 0u);
  for (var b = 63u; b < 64u; b--) { // ends when b wraps past 0
    var bit = 0u;
    if (b >= 32u) { bit = (n.y >> (b - 32u)) & 1u; } else { bit = (n.x >> b) & 1u; }
    r = vec2u((r.x << 1u) | bit, (r.y << 1u) | (r.x >> 31u));
    if (uge64(r, d)) {
      r = sub64(r, d);
      if (b >= 32u) { q.y |= 1u << (b - 32u); } else { q.x |= 1u << b; }
    }
  }
  return q;
}

fn expOf(k: u32) -> u32 {
  if (k < p.table_len) { return bitcast<u32>(table[k]); }
  return 0u;
}

@compute @workgroup_size(256)
fn softmax_stats(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let r = gid.x + gid.y * groups.x * 256u;
  if (r >= p.rows) { return; }
  let base = r * p.d;
  var mx = x[base];
  for (var i = 1u; i < p.d; i++) { mx = max(mx, x[base + i]); }
  var s = vec2u(0u, 0u);
  for (var i = 0u; i < p.d; i++) { s = add64(s, vec2u(expOf(u32(mx - x[base + i])), 0u)); }
  stats_out[3u * r] = bitcast<u32>(mx);
  stats_out[3u * r + 1u] = s.x;
  stats_out[3u * r + 2u] = s.y;
}

@compute @workgroup_size(256)
fn softmax_out(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= p.rows * p.d) { return; }
  let r = i / p.d;
  let s = vec2u(stats[3u * r + 1u], stats[3u * r + 2u]);
  if (s.x == 0u && s.y == 0u) { y[i] = 0; return; }
  let e = expOf(u32(bitcast<i32>(stats[3u * r]) - x[i]));
  let pe = mul_u32_wide(e, p.recip);
  let twice = vec2u(pe.x << 1u, (pe.y << 1u) | (pe.x >> 31u));
  let v = sra64(add64(div64(twice, s), pow2_64(p.shift)), p.shift + 1u);
  y[i] = clamp64(v, p.lo, p.hi);
}
