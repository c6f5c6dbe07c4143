// Dense layer kernels. One strided GEMM serves the three linear passes:
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
