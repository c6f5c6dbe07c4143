// Channel gather of [N, C, ...] tensors (inner = product of the trailing dimensions):
// y[n, j, k] = x[n, index[j], k], 0 where index[j] < 0. The channel shuffle (index a permutation) and the
// backward of a channel slice (the inverse index). The Params struct is prepended from its one declaration
// (src/engine/webgpu/ops/gather-channels.ts). One invocation per output element.
@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> x: array<f32>;
@group(0) @binding(2) var<storage, read> index: array<f32>;
@group(0) @binding(3) var<storage, read_write> y: array<f32>;

@compute @workgroup_size(256)
fn gather_channels(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= p.total) { return; }
  let k = i % p.inner;
  let nj = i / p.inner;
  let j = nj % p.out_c;
  let n = nj / p.out_c;
  let src = index[j];
  if (src < 0.0) {
    y[i] = 0.0;
    return;
  }
  y[i] = x[(n * p.in_c + u32(src)) * p.inner + k];
}
