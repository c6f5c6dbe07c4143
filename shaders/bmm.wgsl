// Batched matrix product (Backend.matmul; CPU reference src/engine/reference/tokens.ts):
//   c[q, m, n] = sum_k a[q * sa + m * sam + k * sak] * b[q * sb + k * sbk + n * sbn]
// Either operand transposed is a choice of strides. Token matrices are small (tens to hundreds per side), so one
// invocation computes one output with a plain loop over K (the dense layers' tiled GEMM is shaders/matmul.wgsl).
// struct Params is prepended by src/engine/webgpu/ops/tokens.ts.

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> c: array<f32>;

@compute @workgroup_size(256)
fn bmm(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = gid.x + gid.y * groups.x * 256u;
  if (o >= p.total) { return; }
  let n = o % p.N;
  let m = (o / p.N) % p.M;
  let q = o / (p.N * p.M);
  var ia = q * p.sa + m * p.sam;
  var ib = q * p.sb + n * p.sbn;
  var s = 0.0;
  for (var k = 0u; k < p.K; k++) {
    s += a[ia] * b[ib];
    ia += p.sak;
    ib += p.sbk;
  }
  c[o] = s;
}
