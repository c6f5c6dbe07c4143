// Observer statistics: min/max (per tensor = one channel, or per channel along any axis) and torch.histc.
//
// Min/max work on order-preserving u32 keys of the float bits, not on f32 comparisons: exact for every
// value (subnormals included, even on adapters that flush them in float ops), NaN skipped like the CPU
// `aminmax` (`v < mn` is false for NaN), -0 < +0. Tensors are read and written as raw u32 bits.
// Empty / all-NaN channels give [+inf, -inf].
struct Params {
  n: u32,
  channels: u32,
  inner: u32,
  count: u32,   // elements per channel = outer * inner
  slices: u32,  // workgroups per channel in the first min/max pass
  bins: u32,
  lo: f32,      // histc range [lo, hi], width = f32(hi - lo) (computed on the host)
  hi: f32,
  width: f32,
  _pad0: u32,
  _pad1: u32,
  _pad2: u32,
}

@group(0) @binding(0) var<uniform> p: Params;

const KEY_POS_INF: u32 = 0xff800000u; // key(+inf): identity of min
const KEY_NEG_INF: u32 = 0x007fffffu; // key(-inf): identity of max

fn is_nan(b: u32) -> bool {
  return (b & 0x7fffffffu) > 0x7f800000u;
}

// Monotonic map float bits -> u32 (negative floats reversed below the positive ones).
fn key(b: u32) -> u32 {
  return select(b ^ 0x80000000u, ~b, (b & 0x80000000u) != 0u);
}

fn unkey(k: u32) -> u32 {
  return select(~k, k ^ 0x80000000u, (k & 0x80000000u) != 0u);
}

var<workgroup> wmin: array<u32, 256>;
var<workgroup> wmax: array<u32, 256>;

fn tree_minmax(lid: u32) {
  for (var s = 128u; s > 0u; s = s >> 1u) {
    if (lid < s) {
      wmin[lid] = min(wmin[lid], wmin[lid + s]);
      wmax[lid] = max(wmax[lid], wmax[lid + s]);
    }
    workgroupBarrier();
  }
}

// ---- pass 1: workgroup (slice, channel) -> partial keys [channel * slices + slice] ----
@group(0) @binding(1) var<storage, read> mx: array<u32>;
@group(0) @binding(2) var<storage, read_write> pmin: array<u32>;
@group(0) @binding(3) var<storage, read_write> pmax: array<u32>;

@compute @workgroup_size(256)
fn minmax_partial(@builtin(local_invocation_id) lid3: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let lid = lid3.x;
  let slice = wid.x;
  let c = wid.y;
  var kmin = KEY_POS_INF;
  var kmax = KEY_NEG_INF;
  for (var j = slice * 256u + lid; j < p.count; j = j + p.slices * 256u) {
    var i = j;
    if (p.channels != 1u) {
      let o = j / p.inner;
      i = (o * p.channels + c) * p.inner + (j - o * p.inner);
    }
    let b = mx[i];
    if (!is_nan(b)) {
      let k = key(b);
      kmin = min(kmin, k);
      kmax = max(kmax, k);
    }
  }
  wmin[lid] = kmin;
  wmax[lid] = kmax;
  workgroupBarrier();
  tree_minmax(lid);
  if (lid == 0u) {
    pmin[c * p.slices + slice] = wmin[0];
    pmax[c * p.slices + slice] = wmax[0];
  }
}

// ---- pass 2: one workgroup per channel reduces its `slices` partials -> float bits ----
@group(0) @binding(1) var<storage, read> rmin_in: array<u32>;
@group(0) @binding(2) var<storage, read> rmax_in: array<u32>;
@group(0) @binding(3) var<storage, read_write> rmin_out: array<u32>;
@group(0) @binding(4) var<storage, read_write> rmax_out: array<u32>;

@compute @workgroup_size(256)
fn minmax_final(@builtin(local_invocation_id) lid3: vec3u, @builtin(workgroup_id) wid: vec3u) {
  let lid = lid3.x;
  let c = wid.x + wid.y * 65535u;
  if (c >= p.channels) { return; } // uniform per workgroup
  var kmin = KEY_POS_INF;
  var kmax = KEY_NEG_INF;
  for (var s = lid; s < p.slices; s = s + 256u) {
    kmin = min(kmin, rmin_in[c * p.slices + s]);
    kmax = max(kmax, rmax_in[c * p.slices + s]);
  }
  wmin[lid] = kmin;
  wmax[lid] = kmax;
  workgroupBarrier();
  tree_minmax(lid);
  if (lid == 0u) {
    rmin_out[c] = unkey(wmin[0]);
    rmax_out[c] = unkey(wmax[0]);
  }
}

// ---- histogram: torch.histc(x, bins, min=lo, max=hi), 1.13 CPU bin rule ----
//   skip NaN and x outside [lo, hi]; pos = int(f32(f32(f32(x - lo) * bins) / width)); pos == bins -> bins - 1
// The division is emulated exactly (div_rn_trunc): WGSL `/` is only accurate to 2.5 ulp, which would move
// values sitting at bin edges.

// trunc(RN(a / w)) for a >= 0 and w > 0 finite (RN = float32 round to nearest even), as an integer.
fn div_rn_trunc(a: f32, w: f32) -> u32 {
  let ba = bitcast<u32>(a);
  let bw = bitcast<u32>(w);
  var ea = i32((ba >> 23u) & 0xffu);
  var ma = ba & 0x7fffffu;
  if (ea == 0) {
    if (ma == 0u) { return 0u; }
    let sh = i32(countLeadingZeros(ma)) - 8;
    ma = ma << u32(sh);
    ea = 1 - sh;
  } else {
    ma = ma | 0x800000u;
  }
  var ew = i32((bw >> 23u) & 0xffu);
  var mw = bw & 0x7fffffu;
  if (ew == 0) {
    let sh = i32(countLeadingZeros(mw)) - 8;
    mw = mw << u32(sh);
    ew = 1 - sh;
  } else {
    mw = mw | 0x800000u;
  }
  var e = ea - ew;
  if (ma < mw) {
    ma = ma << 1u;
    e = e - 1;
  }
  if (e < -1) { return 0u; } // a / w < 0.5
  // restoring division: q = floor(ma / mw * 2^23) in [2^23, 2^24), r = 2 * remainder
  var q = 0u;
  var r = ma;
  for (var k = 0; k < 24; k = k + 1) {
    q = q << 1u;
    if (r >= mw) {
      r = r - mw;
      q = q | 1u;
    }
    r = r << 1u;
  }
  if (r > mw || (r == mw && (q & 1u) == 1u)) {
    q = q + 1u;
    if (q == 0x1000000u) {
      q = 0x800000u;
      e = e + 1;
    }
  }
  // value = q * 2^(e - 23)
  if (e < 0) { return 0u; }
  if (e >= 23) { return 0xffffffffu; } // >= 2^23: beyond any bin index (clamped by the caller)
  return q >> u32(23 - e);
}

fn bin_of(b: u32) -> i32 {
  if (is_nan(b)) { return -1; }
  let v = bitcast<f32>(b);
  if (v < p.lo || p.hi < v) { return -1; }
  let a = (v - p.lo) * f32(p.bins);
  let pos = min(div_rn_trunc(a, p.width), p.bins - 1u);
  return i32(pos);
}

@group(0) @binding(1) var<storage, read> hx: array<u32>;
@group(0) @binding(2) var<storage, read_write> hbins: array<atomic<u32>>;

const LOCAL_BINS: u32 = 2048u;
var<workgroup> lbins: array<atomic<u32>, 2048>;

// bins <= 2048: a workgroup-private histogram, flushed with one atomicAdd per non-empty bin.
@compute @workgroup_size(256)
fn histc_local(@builtin(local_invocation_id) lid3: vec3u, @builtin(workgroup_id) wid: vec3u,
               @builtin(num_workgroups) groups: vec3u) {
  let lid = lid3.x;
  for (var k = lid; k < p.bins; k = k + 256u) { atomicStore(&lbins[k], 0u); }
  workgroupBarrier();
  for (var i = wid.x * 256u + lid; i < p.n; i = i + groups.x * 256u) {
    let pos = bin_of(hx[i]);
    if (pos >= 0) { atomicAdd(&lbins[u32(pos)], 1u); }
  }
  workgroupBarrier();
  for (var k = lid; k < p.bins; k = k + 256u) {
    let c = atomicLoad(&lbins[k]);
    if (c != 0u) { atomicAdd(&hbins[k], c); }
  }
}

@compute @workgroup_size(256)
fn histc_global(@builtin(local_invocation_id) lid3: vec3u, @builtin(workgroup_id) wid: vec3u,
                @builtin(num_workgroups) groups: vec3u) {
  for (var i = wid.x * 256u + lid3.x; i < p.n; i = i + groups.x * 256u) {
    let pos = bin_of(hx[i]);
    if (pos >= 0) { atomicAdd(&hbins[u32(pos)], 1u); }
  }
}

// u32 counts -> f32 (exact below 2^24)
@group(0) @binding(1) var<storage, read> cin: array<u32>;
@group(0) @binding(2) var<storage, read_write> cout: array<f32>;

@compute @workgroup_size(256)
fn counts_to_f32(@builtin(global_invocation_id) gid: vec3u) {
  let i = gid.x;
  if (i >= p.bins) { return; }
  cout[i] = f32(cin[i]);
}
