// ------------------------------------------------------------------------------------------------
// channel_sum: s[c] = sum_{n, i} x[n, c, i] for x [N, C, HW] (p.N, p.C, p.H = HW).
// One workgroup per channel (flat over a 2-D grid); 64 strided partial sums, then 8, then 1.
var<workgroup> partial: array<f32, 64>;

@compute @workgroup_size(64)
fn channel_sum(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
               @builtin(local_invocation_index) lid: u32) {
  let c = i32(wid.x + wid.y * nwg.x);
  let HW = p.H;
  var acc = 0.0;
  if (c < p.C) {
    if (HW >= 64) {
      for (var n = 0; n < p.N; n++) {
        let base = (n * p.C + c) * HW;
        for (var i = i32(lid); i < HW; i += 64) { acc += rin[base + i]; }
      }
    } else {
      let total = p.N * HW;
      for (var e = i32(lid); e < total; e += 64) {
        let n = e / HW;
        acc += rin[(n * p.C + c) * HW + e - n * HW];
      }
    }
  }
  partial[lid] = acc;
  workgroupBarrier();
  if (lid < 8u) {
    var s = 0.0;
    for (var k = 0u; k < 8u; k++) { s += partial[lid * 8u + k]; }
    partial[lid * 8u] = s;
  }
  workgroupBarrier();
  if (lid == 0u && c < p.C) {
    var s = 0.0;
    for (var k = 0u; k < 8u; k++) { s += partial[k * 8u]; }
    rout[c] = s;
  }
}
