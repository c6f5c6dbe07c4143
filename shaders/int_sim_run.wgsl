// Two entries of the simulator's GPU runner (src/sim/run-gpu.ts prepends int_requant.wgsl):
//  - add_requant: y[i] = requant(acc[i] + low32(mul_shift_round64(a[i], am[c], as[c])), m[c], s[c]),
//    c = (i / inner) % channels; chan holds [m, s, am, as] per channel (the fused Conv+Add).
//  - rescale_into: y[n*stride + offset + j] = requant(x[n*per + j], chan[1], chan[2]) for i = n*per + j
//    (a concat input rescaled into its slice).
//  - mul_requant: y[i] = requant(a[i] * b[i / inner], chan[1], chan[2]) (acc = a, addin = b, chan4 = words; the
//    int8 / int16 product fits int32): Mul of two values, b per element (inner 1) or per channel.
//  - affine_requant: y[i] = requant(x[i], chan[1], chan[2]) + chan[3] (the offset as output zero point), clamped.
// The uniform structs AddRq, Into, MulRq and AffRq are declared in src/sim/gpu/layers.ts (uniforms(): one declaration gives the
// WGSL struct and the TypeScript packer) and prepended to this source.
@group(0) @binding(0) var<uniform> pa: AddRq;
@group(0) @binding(0) var<uniform> pi: Into;
@group(0) @binding(0) var<uniform> pm: MulRq;
@group(0) @binding(0) var<uniform> pf: AffRq;
@group(0) @binding(1) var<storage, read> acc: array<i32>;
@group(0) @binding(2) var<storage, read> addin: array<i32>;
@group(0) @binding(3) var<storage, read> chan4: array<i32>;
@group(0) @binding(4) var<storage, read_write> y4: array<i32>;
@group(0) @binding(2) var<storage, read> chan3: array<i32>;
@group(0) @binding(3) var<storage, read_write> y3: array<i32>;

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn add_requant(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= pa.total) { return; }
  let c = i32((i / pa.inner) % pa.channels);
  let r = mul_shift_round64(addin[i], bitcast<u32>(chan4[4 * c + 2]), bitcast<u32>(chan4[4 * c + 3]));
  let v = acc[i] + bitcast<i32>(r.x);
  y4[i] = requant_mode(v, 1u, chan4[4 * c], chan4[4 * c + 1], 0, pa.lo, pa.hi);
}

@compute @workgroup_size(256)
fn rescale_into(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= pi.total) { return; }
  let n = i / pi.per;
  let j = i % pi.per;
  y3[n * pi.stride + pi.offset + j] = requant_mode(acc[i], 1u, chan3[1], chan3[2], 0, pi.lo, pi.hi);
}

@compute @workgroup_size(256)
fn mul_requant(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= pm.total) { return; }
  y4[i] = requant_mode(acc[i] * addin[i / pm.inner], 1u, chan4[1], chan4[2], 0, pm.lo, pm.hi);
}

@compute @workgroup_size(256)
fn affine_requant(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= pf.total) { return; }
  y3[i] = requant_mode(acc[i], 1u, chan3[1], chan3[2], chan3[3], pf.lo, pf.hi);
}
