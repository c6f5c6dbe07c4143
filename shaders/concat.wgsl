// Channel copies between [N, C, ...] tensors (inner = product of the trailing dimensions, H * W):
// dst[n, dstStart + c, :] = src[n, srcStart + c, :] for c < count. concatChannels runs it once per
// input (dst passed as an output each time, so later inputs see earlier writes in order);
// sliceChannels runs it once. One invocation per copied element, 2-D grid of 256-lane workgroups.
struct Params {
  total: u32,     // N * count * inner
  inner: u32,
  count: u32,
  src_c: u32,     // channels of src
  src_start: u32,
  dst_c: u32,     // channels of dst
  dst_start: u32,
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> src: array<f32>;
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;

@compute @workgroup_size(256)
fn copy_channels(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= p.total) { return; }
  let block = p.count * p.inner;   // contiguous run of one sample
  let n = i / block;
  let r = i - n * block;           // = c * inner + k
  dst[(n * p.dst_c + p.dst_start) * p.inner + r] = src[(n * p.src_c + p.src_start) * p.inner + r];
}
