// Axis permutation of a row-major tensor of rank ≤ 6 (Backend.transpose; CPU reference src/engine/reference/tokens.ts).
// One invocation per output element: its index is decomposed over the output dimensions d0..d5 (unused leading axes
// are 1) and gathered with the input strides of the permuted axes s0..s5. struct Params { n, d0..d5, s0..s5: u32 } is
// prepended by src/engine/webgpu/ops/tokens.ts.

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn transpose(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = gid.x + gid.y * groups.x * 256u;
  if (o >= p.n) { return; }
  var r = o;
  let i5 = r % p.d5; r = r / p.d5;
  let i4 = r % p.d4; r = r / p.d4;
  let i3 = r % p.d3; r = r / p.d3;
  let i2 = r % p.d2; r = r / p.d2;
  let i1 = r % p.d1; r = r / p.d1;
  let i0 = r;
  y[o] = x[i0 * p.s0 + i1 * p.s1 + i2 * p.s2 + i3 * p.s3 + i4 * p.s4 + i5 * p.s5];
}
