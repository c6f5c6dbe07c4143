// The `lut` layer of the fixed-point simulator on the GPU (src/sim/gpu/lut.ts prepends int_requant.wgsl and the
// uniform struct Lut). Bit-identical to lutApply (src/sim/int/lut.ts; docs/fixed-point.md §8): `table` holds the
// [start, e] pairs of every channel and segment, then the knots (start counts from the first knot).
@group(0) @binding(0) var<uniform> pl: Lut;
@group(0) @binding(1) var<storage, read> x: array<i32>;
@group(0) @binding(2) var<storage, read> table: array<i32>;
@group(0) @binding(3) var<storage, read_write> y: array<i32>;

@compute @workgroup_size(256)
fn lut(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = gid.x + gid.y * groups.x * 256u;
  if (i >= pl.total) { return; }
  let u = u32(x[i] + pl.in_offset); // the input is within its dtype: 0 <= u < 2^(segBits) * segments
  let c = (i / pl.inner) % pl.channels;
  let sg = 2u * (c * pl.segments + (u >> pl.seg_bits));
  let e = u32(table[sg + 1u]);
  let o = u & ((1u << pl.seg_bits) - 1u);
  let k = pl.knots_at + u32(table[sg]) + (o >> e);
  let r = o & ((1u << e) - 1u);
  var v = table[k];
  if (r != 0u) {
    // |knot difference| < 2^26, r < 2^13: the rounded quotient fits the low word
    v = v + bitcast<i32>(mul_shift_round64(table[k + 1u] - v, r, e).x);
  }
  if (pl.frac_bits > 0u) {
    v = (v + (1 << (pl.frac_bits - 1u))) >> pl.frac_bits; // round half up (|v| < 2^26: no overflow)
  }
  y[i] = clamp(v, pl.lo, pl.hi);
}
