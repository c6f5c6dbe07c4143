// The simulator's integer resize accumulator on i32 words (src/sim/gpu/spatial.ts): the same integers as
// src/sim/int/resize.ts (no overflow: the bound is documented there). The IntResize struct is prepended from its
// declaration in src/sim/gpu/spatial.ts.

// tab: rows.index [2·OH], rows.weight [2·OH], cols.index [2·OW], cols.weight [2·OW]
@group(0) @binding(0) var<uniform> rp: IntResize;
@group(0) @binding(1) var<storage, read> rx: array<i32>;
@group(0) @binding(2) var<storage, read> rtab: array<i32>;
@group(0) @binding(3) var<storage, read_write> racc: array<i32>;

// round_half_up(v / 2^s): (v + 2^(s-1)) >> s, arithmetic shift (|v| <= 2^30: no overflow)
fn round_shift(v: i32, s: u32) -> i32 {
  if (s == 0u) { return v; }
  return (v + (1i << (s - 1u))) >> s;
}

@compute @workgroup_size(256)
fn int_resize(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= rp.total) { return; }
  let q = i % rp.out_w;
  let pr = (i / rp.out_w) % rp.out_h;
  let nc = i / (rp.out_w * rp.out_h);
  let base = nc * rp.in_h * rp.in_w;
  let rw = 2u * rp.out_h;
  let ci = 4u * rp.out_h;
  let cw = ci + 2u * rp.out_w;
  let r0 = base + u32(rtab[2u * pr]) * rp.in_w;
  let r1 = base + u32(rtab[2u * pr + 1u]) * rp.in_w;
  let c0 = u32(rtab[ci + 2u * q]);
  let c1 = u32(rtab[ci + 2u * q + 1u]);
  let w0 = rtab[rw + 2u * pr];
  let w1 = rtab[rw + 2u * pr + 1u];
  let t0 = round_shift(w0 * rx[r0 + c0] + w1 * rx[r1 + c0], rp.mid_shift);
  let t1 = round_shift(w0 * rx[r0 + c1] + w1 * rx[r1 + c1], rp.mid_shift);
  racc[i] = rtab[cw + 2u * q] * t0 + rtab[cw + 2u * q + 1u] * t1;
}
