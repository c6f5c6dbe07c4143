// The simulator's integer matmul (src/sim/int/tokens.ts matmulAcc + matmulInt): one invocation per output element,
// acc = Σ_k A[q, m, k] · B[q, k, n] over i32 words (int8 / int16 values: each product fits in int32), then the
// per-tensor 'horizon' requantization of int_requant.wgsl (prepended) and the clamp. Either operand transposed:
// A[m, k] = a[q·M·K + m·a_m + k·a_k], B[k, n] = b[q·K·N + k·b_k + n·b_n].
// The CPU run never wraps: a sum that leaves int32 is an error. Here the sum wraps, and the wraps are counted: the
// exact sum is acc + wraps · 2^32, so it is in (−2^31, 2^31) exactly when wraps == 0 and acc != −2^31 (the CPU's
// |s| ≤ 2^31 − 1). Such an output marks status[0] with the layer's index (atomicMin: the first such layer wins);
// src/sim/run-gpu.ts reads it and throws. The IntMatmul struct is prepended from src/sim/gpu/matmul.ts.
@group(0) @binding(0) var<uniform> p: IntMatmul;
@group(0) @binding(1) var<storage, read> a: array<i32>;
@group(0) @binding(2) var<storage, read> b: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<i32>;
@group(0) @binding(4) var<storage, read_write> status: array<atomic<i32>>;

@compute @workgroup_size(256)
fn int_matmul(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= p.total) { return; }
  let col = i % p.n;
  let row = (i / p.n) % p.m;
  let q = i / (p.m * p.n);
  var ai = q * p.m * p.k + row * p.a_m;
  var bi = q * p.k * p.n + col * p.b_n;
  var s = 0i;
  var wraps = 0i;
  for (var kk = 0u; kk < p.k; kk++) {
    let prod = a[ai] * b[bi];
    let t = s + prod; // two's complement wrap-around
    if (prod > 0 && t < s) { wraps += 1; }
    if (prod < 0 && t > s) { wraps -= 1; }
    s = t;
    ai += p.a_k;
    bi += p.b_k;
  }
  if (wraps != 0 || s == bitcast<i32>(0x80000000u)) { atomicMin(&status[0], i32(p.code)); }
  y[i] = requant_mode(s, 1u, bitcast<i32>(p.mult), bitcast<i32>(p.shift), 0, p.lo, p.hi);
}
