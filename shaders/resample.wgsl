// Separable 2-D resampling by per-axis tap tables (Backend.resample2d; CPU reference
// src/engine/reference/resample.ts, same f32 summation order). The tables travel in one f32 buffer `tab`:
// row starts, row indices, row weights, column starts, column indices, column weights at the offsets of the
// uniform (indices are small integers, exact in f32). The Params struct is prepended from src/engine/webgpu/ops/resample.ts.
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> tab: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn resample2d(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= p.total) { return; }
  let q = i % p.out_w;
  let pr = (i / p.out_w) % p.out_h;
  let nc = i / (p.out_w * p.out_h);
  let base = nc * p.in_h * p.in_w;
  var acc = 0.0;
  let k0 = u32(tab[p.r_start + pr]);
  let k1 = u32(tab[p.r_start + pr + 1u]);
  let l0 = u32(tab[p.c_start + q]);
  let l1 = u32(tab[p.c_start + q + 1u]);
  for (var k = k0; k < k1; k++) {
    let row = base + u32(tab[p.r_index + k]) * p.in_w;
    var r = 0.0;
    for (var l = l0; l < l1; l++) {
      r = r + tab[p.c_weight + l] * x[row + u32(tab[p.c_index + l])];
    }
    acc = acc + tab[p.r_weight + k] * r;
  }
  y[i] = acc;
}
