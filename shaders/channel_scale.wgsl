// Per-channel scaling of a tensor seen as [outer, channels, inner]:
//   out[i] = x[i] * s[c]   (divide = 0)      c = (i / inner) % channels
//   out[i] = x[i] / s[c]   (divide = 1)
//   out[i] = x[i] + s[c]   (divide = 2: a per-channel bias, Backend.addChannelBias)
// Multiplication is one correctly rounded f32 op (bit-exact with the CPU reference); WGSL's f32 division is
// only specified to 2.5 ULP, so the divide variant matches the reference to a few ULP.
// With channels = n, inner = 1 it is the elementwise product of two same-sized tensors (the s-gradient uses it).
struct Params {
  n: u32,
  channels: u32,
  inner: u32,
  divide: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> s: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

@compute @workgroup_size(256)
fn channel_scale(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  let c = (i / p.inner) % p.channels;
  let v = x[i];
  let sc = s[c];
  if (p.divide == 1u) {
    out[i] = v / sc;
  } else if (p.divide == 2u) {
    out[i] = v + sc;
  } else {
    out[i] = v * sc;
  }
}
