// Dense layer kernels. The vec4 entry points mm_nt / mm_nn / mm_tn (below) serve the three passes
// when the contiguous dimensions are multiples of 4; otherwise one strided scalar GEMM does:
//   C[m, n] = sum_k A[m * sam + k * sak] * B[k * sbk + n * sbn]  (+ bias[n])
//   forward          y  = x  w^T : A = x [N, K],  B = w^T (w [O, K]: sbk = 1, sbn = K)
//   backward input   dx = dy w   : A = dy [N, O], B = w [O, K]
//   backward weight  dw = dy^T x : A = dy^T (dy [N, O]: sam = 1, sak = O), B = x [N, K]
// 64 x 64 output tile per workgroup of 16 x 16 invocations, 4 x 4 outputs per invocation
// (rows ty*4 + i, columns tx + 16*j), K in tiles of 16 staged in workgroup memory: 2 barriers per
// K tile. Tiles are numbered flat over a 2-D grid (wid.x + wid.y * nwg.x).
struct Params {
  M: i32, NC: i32, K: i32,
  sam: i32, sak: i32, sbk: i32, sbn: i32,
  hasBias: i32,
  tilesN: i32, tiles: i32,
}

@group(0) @binding(0) var<uniform> p: Params;
// matmul: a, b, bias -> c
@group(0) @binding(1) var<storage, read> ma: array<f32>;
@group(0) @binding(2) var<storage, read> mb: array<f32>;
@group(0) @binding(3) var<storage, read> mbias: array<f32>;
@group(0) @binding(4) var<storage, read_write> mc: array<f32>;
// sum_rows: dy -> s
@group(0) @binding(2) var<storage, read_write> rs: array<f32>;

const TM: i32 = 64;
const TN: i32 = 64;
const TK: i32 = 16;

var<workgroup> As: array<f32, 1024>; // [TK][TM]
var<workgroup> Bs: array<f32, 1024>; // [TK][TN]

@compute @workgroup_size(256)
fn matmul(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
          @builtin(local_invocation_index) lidu: u32) {
  let tile = i32(wid.x + wid.y * nwg.x);
  if (tile >= p.tiles) { return; }   // uniform for the whole workgroup
  let lid = i32(lidu);
  let tx = lid % 16;
  let ty = lid / 16;
  let m0 = (tile / p.tilesN) * TM;
  let n0 = (tile % p.tilesN) * TN;
  // Tile loads: walk the contiguous dimension with consecutive invocations when there is one.
  let aKFast = p.sak == 1;
  let bNFast = p.sbn == 1;

  var acc0 = vec4f(0.0);
  var acc1 = vec4f(0.0);
  var acc2 = vec4f(0.0);
  var acc3 = vec4f(0.0);
  for (var k0 = 0; k0 < p.K; k0 += TK) {
    for (var i = 0; i < 4; i++) {
      let e = lid + 256 * i;
      // A tile element (mm, kk)
      let mm = select(e % TM, e / TK, aKFast);
      let kk = select(e / TM, e % TK, aKFast);
      let gm = m0 + mm;
      let gk = k0 + kk;
      var av = 0.0;
      if (gm < p.M && gk < p.K) { av = ma[gm * p.sam + gk * p.sak]; }
      As[kk * TM + mm] = av;
      // B tile element (kb, nb)
      let nb = select(e / TK, e % TN, bNFast);
      let kb = select(e % TK, e / TN, bNFast);
      let gn = n0 + nb;
      let gkb = k0 + kb;
      var bv = 0.0;
      if (gn < p.NC && gkb < p.K) { bv = mb[gkb * p.sbk + gn * p.sbn]; }
      Bs[kb * TN + nb] = bv;
    }
    workgroupBarrier();
    for (var k = 0; k < TK; k++) {
      let ab = k * TM + ty * 4;
      let bb = k * TN + tx;
      let b = vec4f(Bs[bb], Bs[bb + 16], Bs[bb + 32], Bs[bb + 48]);
      acc0 += As[ab] * b;
      acc1 += As[ab + 1] * b;
      acc2 += As[ab + 2] * b;
      acc3 += As[ab + 3] * b;
    }
    workgroupBarrier();
  }

  for (var j = 0; j < 4; j++) {
    let n = n0 + tx + 16 * j;
    if (n >= p.NC) { break; }
    let bias = select(0.0, mbias[n], p.hasBias != 0);
    let m = m0 + ty * 4;
    if (m < p.M) { mc[m * p.NC + n] = acc0[j] + bias; }
    if (m + 1 < p.M) { mc[(m + 1) * p.NC + n] = acc1[j] + bias; }
    if (m + 2 < p.M) { mc[(m + 2) * p.NC + n] = acc2[j] + bias; }
    if (m + 3 < p.M) { mc[(m + 3) * p.NC + n] = acc3[j] + bias; }
  }
}

// ------------------------------------------------------------------------------------------------
// vec4 GEMMs, one entry point per layout (picked on the host when the contiguous dimensions are
// multiples of 4; otherwise `matmul` above runs). Addresses follow from M, NC, K (strides unused):
//   mm_nt  C = A B^T, A [M, K], B [NC, K]   (forward x w^T; needs K % 4 == 0)
//   mm_nn  C = A B,   A [M, K], B [K, NC]   (backward input dy w; K % 4 == 0, NC % 4 == 0)
//   mm_tn  C = A^T B, A [K, M], B [K, NC]   (backward weight dy^T x; M % 4 == 0, NC % 4 == 0)
// 32 x 32 output tile per workgroup of 8 x 8 invocations, 4 x 4 outputs per invocation (rows
// ty*4 + i, columns tx*4 + j), K in tiles of 32. Global reads are vec4 (one bounds check per 4
// values; a vec4 is entirely inside or outside since the contiguous length is a multiple of 4), the
// staged tiles are vec4 too, and the inner loop reads 8 vec4 from workgroup memory per 64
// multiply-adds (the scalar kernel above reads 8 scalars per 16). 2 barriers per 32 of K.
@group(0) @binding(1) var<storage, read> ma4: array<vec4f>;
@group(0) @binding(2) var<storage, read> mb4: array<vec4f>;

const VT: i32 = 32;     // tile rows / columns / depth
const VT4: i32 = 8;     // vec4 per tile row

var<workgroup> As4: array<vec4f, 256>;
var<workgroup> Bs4: array<vec4f, 256>;

fn write_tile(m0: i32, n0: i32, tx: i32, ty: i32, acc: array<vec4f, 4>) {
  let n = n0 + tx * 4;
  if (n >= p.NC) { return; }
  var bias = vec4f(0.0);
  if (p.hasBias != 0) {
    bias = vec4f(mbias[n], mbias[min(n + 1, p.NC - 1)], mbias[min(n + 2, p.NC - 1)], mbias[min(n + 3, p.NC - 1)]);
  }
  let lim = p.NC - n;
  for (var i = 0; i < 4; i++) {
    let m = m0 + ty * 4 + i;
    if (m >= p.M) { break; }
    let v = acc[i] + bias;
    let o = m * p.NC + n;
    mc[o] = v.x;
    if (lim > 1) { mc[o + 1] = v.y; }
    if (lim > 2) { mc[o + 2] = v.z; }
    if (lim > 3) { mc[o + 3] = v.w; }
  }
}

// Stage rows [r0, r0 + 32) x vec4 columns [c4, c4 + 8) of a row-major matrix with `rows` rows of
// `cols4` vec4 (zero outside) into tile[row * 8 + col].
fn load_a_rows(lid: i32, r0: i32, c4: i32, rows: i32, cols4: i32) {
  for (var i = 0; i < 4; i++) {
    let e = lid + 64 * i;
    let r = r0 + e / VT4;
    let c = c4 + e % VT4;
    var v = vec4f(0.0);
    if (r < rows && c < cols4) { v = ma4[r * cols4 + c]; }
    As4[e] = v;
  }
}
fn load_b_rows(lid: i32, r0: i32, c4: i32, rows: i32, cols4: i32) {
  for (var i = 0; i < 4; i++) {
    let e = lid + 64 * i;
    let r = r0 + e / VT4;
    let c = c4 + e % VT4;
    var v = vec4f(0.0);
    if (r < rows && c < cols4) { v = mb4[r * cols4 + c]; }
    Bs4[e] = v;
  }
}

// (tx, ty, m0, n0) of invocation lid in output tile `tile`: tiles numbered row-major over tilesN.
fn tile_at(tile: i32, lid: i32) -> vec4i {
  return vec4i(lid % 8, lid / 8, (tile / p.tilesN) * VT, (tile % p.tilesN) * VT);
}

@compute @workgroup_size(64)
fn mm_nt(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
         @builtin(local_invocation_index) lidu: u32) {
  let tile = i32(wid.x + wid.y * nwg.x);
  if (tile >= p.tiles) { return; }   // uniform for the whole workgroup
  let lid = i32(lidu);
  let at = tile_at(tile, lid);
  let tx = at.x; let ty = at.y; let m0 = at.z; let n0 = at.w;
  let K4 = p.K / 4;
  var acc: array<vec4f, 4>;
  for (var k4 = 0; k4 < K4; k4 += VT4) {
    load_a_rows(lid, m0, k4, p.M, K4);   // As4[m][k4]
    load_b_rows(lid, n0, k4, p.NC, K4);  // Bs4[n][k4]
    workgroupBarrier();
    for (var k = 0; k < VT4; k++) {
      let b0 = Bs4[(tx * 4) * VT4 + k];
      let b1 = Bs4[(tx * 4 + 1) * VT4 + k];
      let b2 = Bs4[(tx * 4 + 2) * VT4 + k];
      let b3 = Bs4[(tx * 4 + 3) * VT4 + k];
      for (var i = 0; i < 4; i++) {
        let a = As4[(ty * 4 + i) * VT4 + k];
        acc[i] += vec4f(dot(a, b0), dot(a, b1), dot(a, b2), dot(a, b3));
      }
    }
    workgroupBarrier();
  }
  write_tile(m0, n0, tx, ty, acc);
}

@compute @workgroup_size(64)
fn mm_nn(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
         @builtin(local_invocation_index) lidu: u32) {
  let tile = i32(wid.x + wid.y * nwg.x);
  if (tile >= p.tiles) { return; }
  let lid = i32(lidu);
  let at = tile_at(tile, lid);
  let tx = at.x; let ty = at.y; let m0 = at.z; let n0 = at.w;
  let K4 = p.K / 4;
  let N4 = p.NC / 4;
  var acc: array<vec4f, 4>;
  for (var k0 = 0; k0 < p.K; k0 += VT) {
    load_a_rows(lid, m0, k0 / 4, p.M, K4);   // As4[m][k4]
    load_b_rows(lid, k0, n0 / 4, p.K, N4);   // Bs4[k][n4]
    workgroupBarrier();
    for (var k = 0; k < VT4; k++) {
      let b0 = Bs4[(k * 4) * VT4 + tx];
      let b1 = Bs4[(k * 4 + 1) * VT4 + tx];
      let b2 = Bs4[(k * 4 + 2) * VT4 + tx];
      let b3 = Bs4[(k * 4 + 3) * VT4 + tx];
      for (var i = 0; i < 4; i++) {
        let a = As4[(ty * 4 + i) * VT4 + k];
        acc[i] += a.x * b0 + a.y * b1 + a.z * b2 + a.w * b3;
      }
    }
    workgroupBarrier();
  }
  write_tile(m0, n0, tx, ty, acc);
}

@compute @workgroup_size(64)
fn mm_tn(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
         @builtin(local_invocation_index) lidu: u32) {
  let tile = i32(wid.x + wid.y * nwg.x);
  if (tile >= p.tiles) { return; }
  let lid = i32(lidu);
  let at = tile_at(tile, lid);
  let tx = at.x; let ty = at.y; let m0 = at.z; let n0 = at.w;
  let M4 = p.M / 4;
  let N4 = p.NC / 4;
  var acc: array<vec4f, 4>;
  for (var k0 = 0; k0 < p.K; k0 += VT) {
    load_a_rows(lid, k0, m0 / 4, p.K, M4);   // As4[k][m4]
    load_b_rows(lid, k0, n0 / 4, p.K, N4);   // Bs4[k][n4]
    workgroupBarrier();
    for (var k = 0; k < VT; k++) {
      let a = As4[k * VT4 + ty];
      let b = Bs4[k * VT4 + tx];
      acc[0] += a.x * b;
      acc[1] += a.y * b;
      acc[2] += a.z * b;
      acc[3] += a.w * b;
    }
    workgroupBarrier();
  }
  write_tile(m0, n0, tx, ty, acc);
}

// sum_rows: s[o] = sum_n dy[n, o] for dy [M = N rows, NC = O columns]. A workgroup covers 32
// columns with 8 row slices each; one barrier, then the first slice adds the 8 partial sums.
var<workgroup> part: array<f32, 256>;

@compute @workgroup_size(256)
fn sum_rows(@builtin(workgroup_id) wid: vec3u, @builtin(num_workgroups) nwg: vec3u,
            @builtin(local_invocation_index) lidu: u32) {
  let lid = i32(lidu);
  let col = i32(wid.x + wid.y * nwg.x) * 32 + lid % 32;
  let slice = lid / 32;
  var acc = 0.0;
  if (col < p.NC) {
    for (var r = slice; r < p.M; r += 8) { acc += ma[r * p.NC + col]; }
  }
  part[lid] = acc;
  workgroupBarrier();
  if (slice == 0 && col < p.NC) {
    var s = 0.0;
    for (var k = 0; k < 8; k++) { s += part[lid + 32 * k]; }
    rs[col] = s;
  }
}
