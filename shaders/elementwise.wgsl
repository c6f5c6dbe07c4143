// Elementwise kernels over flat float32 tensors. One invocation per element; the flat index spans
// a 2-D grid of workgroups so tensors larger than 65535 * 256 elements still fit one dispatch.
// struct Params { n: u32, lo: f32, hi: f32, s: f32, b: f32 } is declared in src/engine/webgpu/ops/elementwise.ts
// (uniforms(): the WGSL struct and the TypeScript packer from one declaration) and prepended to this source.

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

// out = a + b
@compute @workgroup_size(256)
fn add(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  out[i] = a[i] + b[i];
}

// out = clampBackward(dy = a, x = b): dy where lo < x < hi
@compute @workgroup_size(256)
fn clamp_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  let x = b[i];
  out[i] = select(0.0, a[i], x > p.lo && x < p.hi);
}
