// The simulator's channel gather (slice, channel shuffle) on i32 words: y[n, j, k] = x[n, index[j], k].
// Integers copied as they are (no float view of the words: a small integer's bits are an f32 denormal, which a
// GPU may flush). The Gather struct is prepended from its one declaration in src/sim/gpu/layers.ts.
@group(0) @binding(0) var<uniform> p: Gather;
@group(0) @binding(1) var<storage, read> x: array<i32>;
@group(0) @binding(2) var<storage, read> index: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<i32>;

@compute @workgroup_size(256)
fn gather_channels(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= p.total) { return; }
  let k = i % p.inner;
  let nj = i / p.inner;
  let j = nj % p.out_c;
  let n = nj / p.out_c;
  y[i] = x[(n * p.in_c + u32(index[j])) * p.inner + k];
}
