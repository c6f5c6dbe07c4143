// Pooling over NCHW planes (pl = n * C + c), PyTorch semantics (ceil_mode and count_include_pad as
// src/qmath/pool-window.ts: the host sizes the output, `divisor` below counts each window).
// Every entry is one invocation per output (forward) or per input element (backward, gather form:
// each element sums the gradients of the windows that use it, so no two invocations write the same
// address). Flat index over a 2-D grid of 256-lane workgroups, bounds-checked against p.total.
// The uniform struct Params (total: invocations, h/w: input plane, oh/ow: output plane, kh/kw, sh/sw, ph/pw,
// inc: 1 = padded positions count in the average's divisor) is declared in src/engine/webgpu/ops/pool.ts
// (uniforms(): one declaration gives the WGSL struct and the TypeScript packer) and prepended to this source.

@group(0) @binding(0) var<uniform> p: Params;
// Binding interfaces differ per entry point; each entry only touches its own variables.
@group(0) @binding(1) var<storage, read> src: array<f32>;        // x, or dy for backward
@group(0) @binding(2) var<storage, read_write> dst: array<f32>;  // y, or dx for avg/global backward
@group(0) @binding(2) var<storage, read_write> idx_out: array<u32>; // max_pool_argmax
@group(0) @binding(2) var<storage, read> idx_in: array<u32>;       // max_pool_backward
@group(0) @binding(3) var<storage, read_write> dx3: array<f32>;      // max_pool_backward

const NONE: u32 = 0xffffffffu;

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

// [first, last] output rows (or columns) whose window covers input row i; empty when first > last.
fn covering(i: i32, k: i32, s: i32, pad: i32, outSize: i32) -> vec2i {
  let lo = i + pad - k + 1;
  let first = select((lo + s - 1) / s, 0, lo <= 0);
  let last = min((i + pad) / s, outSize - 1);
  return vec2i(first, last);
}

// Positions of output o's window counted in the average along one axis (src/qmath/pool-window.ts poolWindowCount).
fn axis_count(o: i32, size: i32, k: i32, s: i32, pad: i32) -> i32 {
  let start = o * s - pad;
  let end = min(start + k, size + pad);
  if (p.inc != 0) { return end - start; }
  return min(end, size) - max(start, 0);
}

fn divisor(oh: i32, ow: i32) -> f32 {
  return f32(axis_count(oh, p.h, p.kh, p.sh, p.ph) * axis_count(ow, p.w, p.kw, p.sw, p.pw));
}

// ---- average pooling ----
@compute @workgroup_size(256)
fn avg_pool(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = flat(gid, groups);
  if (o >= p.total) { return; }
  let plane_out = u32(p.oh * p.ow);
  let pl = o / plane_out;
  let r = i32(o - pl * plane_out);
  let oh = r / p.ow;
  let ow = r - oh * p.ow;
  let h0 = max(oh * p.sh - p.ph, 0);
  let h1 = min(oh * p.sh - p.ph + p.kh, p.h);
  let w0 = max(ow * p.sw - p.pw, 0);
  let w1 = min(ow * p.sw - p.pw + p.kw, p.w);
  let base = pl * u32(p.h * p.w);
  var s = 0.0;
  for (var ih = h0; ih < h1; ih++) {
    let row = base + u32(ih * p.w);
    for (var iw = w0; iw < w1; iw++) { s += src[row + u32(iw)]; }
  }
  dst[o] = s / divisor(oh, ow);
}

@compute @workgroup_size(256)
fn avg_pool_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.total) { return; }
  let plane_in = u32(p.h * p.w);
  let pl = i / plane_in;
  let r = i32(i - pl * plane_in);
  let ih = r / p.w;
  let iw = r - ih * p.w;
  let rows = covering(ih, p.kh, p.sh, p.ph, p.oh);
  let cols = covering(iw, p.kw, p.sw, p.pw, p.ow);
  let base = pl * u32(p.oh * p.ow);
  var s = 0.0;
  for (var oh = rows.x; oh <= rows.y; oh++) {
    let row = base + u32(oh * p.ow);
    for (var ow = cols.x; ow <= cols.y; ow++) { s += src[row + u32(ow)] / divisor(oh, ow); }
  }
  dst[i] = s;
}

// ---- max pooling: padding is -inf; the first maximal element (row-major) wins ----
struct Best { value: f32, index: u32 } // index: plane-relative, NONE for a window of padding only

fn window_max(o: u32) -> Best {
  let plane_out = u32(p.oh * p.ow);
  let pl = o / plane_out;
  let r = i32(o - pl * plane_out);
  let oh = r / p.ow;
  let ow = r - oh * p.ow;
  let h0 = max(oh * p.sh - p.ph, 0);
  let h1 = min(oh * p.sh - p.ph + p.kh, p.h);
  let w0 = max(ow * p.sw - p.pw, 0);
  let w1 = min(ow * p.sw - p.pw + p.kw, p.w);
  let base = pl * u32(p.h * p.w);
  // The index test takes the first real element; the value only stands for an all-padding window.
  var best = Best(-3.4028234e38, NONE);
  for (var ih = h0; ih < h1; ih++) {
    for (var iw = w0; iw < w1; iw++) {
      let k = u32(ih * p.w + iw);
      let v = src[base + k];
      // NaN propagates, as in PyTorch (where the implementation keeps NaN comparisons).
      if (best.index == NONE || v > best.value || v != v) { best = Best(v, k); }
    }
  }
  return best;
}

@compute @workgroup_size(256)
fn max_pool(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = flat(gid, groups);
  if (o >= p.total) { return; }
  dst[o] = window_max(o).value;
}

@compute @workgroup_size(256)
fn max_pool_argmax(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let o = flat(gid, groups);
  if (o >= p.total) { return; }
  idx_out[o] = window_max(o).index;
}

// dx[i] = sum of dy over the windows covering i whose argmax is i (src = dy).
@compute @workgroup_size(256)
fn max_pool_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.total) { return; }
  let plane_in = u32(p.h * p.w);
  let pl = i / plane_in;
  let k = i - pl * plane_in;
  let ih = i32(k) / p.w;
  let iw = i32(k) - ih * p.w;
  let rows = covering(ih, p.kh, p.sh, p.ph, p.oh);
  let cols = covering(iw, p.kw, p.sw, p.pw, p.ow);
  let base = pl * u32(p.oh * p.ow);
  var s = 0.0;
  for (var oh = rows.x; oh <= rows.y; oh++) {
    let row = base + u32(oh * p.ow);
    for (var ow = cols.x; ow <= cols.y; ow++) {
      let o = row + u32(ow);
      if (idx_in[o] == k) { s += src[o]; }
    }
  }
  dx3[i] = s;
}

// ---- global average pooling: [N, C, H, W] -> [N, C], one invocation per plane ----
@compute @workgroup_size(256)
fn global_avg_pool(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let pl = flat(gid, groups);
  if (pl >= p.total) { return; }
  let hw = u32(p.h * p.w);
  let base = pl * hw;
  var s = 0.0;
  for (var k = 0u; k < hw; k++) { s += src[base + k]; }
  dst[pl] = s / f32(hw);
}

@compute @workgroup_size(256)
fn global_avg_pool_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.total) { return; }
  let hw = u32(p.h * p.w);
  dst[i] = src[i / hw] / f32(hw);
}
