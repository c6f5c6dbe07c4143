// The simulator's integer ConvTranspose accumulator on i32 words (src/sim/gpu/spatial.ts): the same integers as
// src/sim/int/conv-transpose.ts. tab: the int8 weights [C_out, Cg, KH, KW] widened to i32, then the int32 bias [O].
// The IntConvT struct is prepended from its declaration in src/sim/gpu/spatial.ts.
@group(0) @binding(0) var<uniform> p: IntConvT;
@group(0) @binding(1) var<storage, read> x: array<i32>;
@group(0) @binding(2) var<storage, read> tab: array<i32>;
@group(0) @binding(3) var<storage, read_write> acc: array<i32>;

@compute @workgroup_size(256)
fn int_conv_transpose(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let idx = gid.x + gid.y * groups.x * 256u;
  if (idx >= p.total) { return; }
  let ox = i32(idx % p.out_w);
  let oy = i32((idx / p.out_w) % p.out_h);
  let o = (idx / (p.out_w * p.out_h)) % p.out_c;
  let n = idx / (p.out_w * p.out_h * p.out_c);
  let grp = o / p.og;
  var s = tab[p.bias_off + o];
  for (var ky = 0u; ky < p.kh; ky++) {
    let ty = oy + i32(p.pad_h) - i32(ky * p.dil_h);
    if (ty < 0 || ty % i32(p.stride_h) != 0) { continue; }
    let iy = u32(ty) / p.stride_h;
    if (iy >= p.in_h) { continue; }
    for (var kx = 0u; kx < p.kw; kx++) {
      let tx = ox + i32(p.pad_w) - i32(kx * p.dil_w);
      if (tx < 0 || tx % i32(p.stride_w) != 0) { continue; }
      let ix = u32(tx) / p.stride_w;
      if (ix >= p.in_w) { continue; }
      for (var c = 0u; c < p.cg; c++) {
        s = s + x[((n * p.in_c + grp * p.cg + c) * p.in_h + iy) * p.in_w + ix] * tab[((o * p.cg + c) * p.kh + ky) * p.kw + kx];
      }
    }
  }
  acc[idx] = s;
}
