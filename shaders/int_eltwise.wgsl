// Elementwise integer kernels of the fixed-point simulator (src/sim/int/add.ts, relu.ts, requant.ts),
// bit-identical; int_requant.wgsl is prepended. One invocation per element; flat index over a 2-D grid of
// 256-lane workgroups. Binding interfaces differ per entry; each entry only touches its own variables.

// ---- quantized add: acc = ma * (a - a_zp) + mb * (b - b_zp) (exact, 64-bit), rounding shift, + zp ----
struct AddParams {
  total: u32,
  azp: i32, bzp: i32,
  ma: i32, mb: i32,
  shift: u32,
  mode: u32,          // 1 horizon (half up), 2 pytorch (qnnpack, ties away from zero)
  ozp: i32, lo: i32, hi: i32,
}

// ---- relu / relu6 ----
struct ReluParams {
  total: u32,
  zp: i32,
  q6: i32,
  has6: u32,
}

// ---- standalone requantization of an int32 tensor, channel = (i / inner) % channels ----
struct RequantParams {
  total: u32,
  channels: u32,
  inner: u32,
  mode: u32,          // 0 none, 1 horizon, 2 pytorch
  ozp: i32, lo: i32, hi: i32,
}

@group(0) @binding(0) var<uniform> pa: AddParams;
@group(0) @binding(0) var<uniform> pr: ReluParams;
@group(0) @binding(0) var<uniform> pq: RequantParams;
@group(0) @binding(0) var<uniform> pd: vec4u; // debug entries: x = count

@group(0) @binding(1) var<storage, read> in_a: array<i32>;
@group(0) @binding(2) var<storage, read> in_b: array<i32>;      // add: b; requant: chan (3 per channel)
@group(0) @binding(3) var<storage, read_write> out3: array<i32>; // add, requant
@group(0) @binding(2) var<storage, read_write> out2: array<i32>; // relu
@group(0) @binding(2) var<storage, read_write> dbg: array<u32>;  // debug entries

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= pa.total) { return; }
  let acc = add64(mul_i32_wide(pa.ma, in_a[i] - pa.azp), mul_i32_wide(pa.mb, in_b[i] - pa.bzp));
  var r: vec2u;
  if (pa.mode == 2u) { r = round_shift_qnnpack64(acc, pa.shift); } else { r = round_shift_half_up64(acc, pa.shift); }
  out3[i] = clamp64(add64(r, sext64(pa.ozp)), pa.lo, pa.hi);
}

@compute @workgroup_size(256)
fn relu(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= pr.total) { return; }
  let v = in_a[i];
  var r = select(v, pr.zp, v < pr.zp);
  if (pr.has6 != 0u && v >= pr.zp && v > pr.q6) { r = pr.q6; }
  out2[i] = r;
}

@compute @workgroup_size(256)
fn requant(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= pq.total) { return; }
  let c = i32((i / pq.inner) % pq.channels);
  out3[i] = requant_mode(in_a[i], pq.mode, in_b[3 * c + 1], in_b[3 * c + 2], pq.ozp, pq.lo, pq.hi);
}

// Test hook for the 64-bit emulation: in_a holds (acc, m, s) triples; per case 6 words:
// acc * m (lo, hi), floor((acc * m + 2^(s-1)) / 2^s) (lo, hi), qnnpack rounding shift of acc * m (lo, hi).
@compute @workgroup_size(256)
fn debug_mulshift(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= pd.x) { return; }
  let acc = in_a[3u * i];
  let m = in_a[3u * i + 1u];
  let s = bitcast<u32>(in_a[3u * i + 2u]);
  let prod = mul_i32_wide(acc, m);
  let r = mul_shift_round64(acc, bitcast<u32>(m), s);
  let q = round_shift_qnnpack64(prod, s);
  dbg[6u * i] = prod.x; dbg[6u * i + 1u] = prod.y;
  dbg[6u * i + 2u] = r.x; dbg[6u * i + 3u] = r.y;
  dbg[6u * i + 4u] = q.x; dbg[6u * i + 5u] = q.y;
}

// Test hook for the float32 path: in_a holds (acc, M bits) pairs; per case 3 words (f32 bits):
// f32(acc), f32(f32(acc) * M), round(f32(acc) * M).
@compute @workgroup_size(256)
fn debug_f32(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= pd.x) { return; }
  let f = i32_to_f32_rne(in_a[2u * i]);
  let prod = f * bitcast<f32>(in_a[2u * i + 1u]);
  dbg[3u * i] = bitcast<u32>(f);
  dbg[3u * i + 1u] = bitcast<u32>(prod);
  dbg[3u * i + 2u] = bitcast<u32>(round(prod));
}
