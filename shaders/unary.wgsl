// Unary elementwise kernels: out = f(a).
// struct Params { n: u32, lo: f32, hi: f32, s: f32, b: f32 } is declared in src/engine/webgpu/ops/elementwise.ts
// (uniforms(): the WGSL struct and the TypeScript packer from one declaration) and prepended to this source.

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read_write> out: array<f32>;

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  out[i] = a[i] * p.s;
}

@compute @workgroup_size(256)
fn affine(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  out[i] = a[i] * p.s + p.b;
}

// min(max(x, lo), hi); hi may be +inf (relu), passed as the largest finite f32.
@compute @workgroup_size(256)
fn clamp(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  out[i] = min(max(a[i], p.lo), p.hi);
}

@compute @workgroup_size(256)
fn copy(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  out[i] = a[i];
}
