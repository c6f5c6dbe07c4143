// Softmax cross-entropy over logits [N, K] with class labels stored as floats.
// softmax_rows: one invocation per row (row max subtracted before exp), writing probs and the row's
// loss; mean_loss: a single 256-lane workgroup averaging the row losses (tree reduction);
// xent_backward: one invocation per logit. A label that is not a class index gives a NaN loss
// (and no one-hot term in the gradient): a kernel cannot throw, but training then visibly fails.
struct Params {
  total: u32, // invocations needed (rows, or rows * classes)
  rows: u32,
  k: u32,
  scale: f32, // xent_backward: gradScale
}

@group(0) @binding(0) var<uniform> p: Params;

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

/** The class index of a label, or -1 when it is not an integer in [0, K). */
fn label_index(l: f32) -> i32 {
  if (!(l >= 0.0 && l < f32(p.k)) || floor(l) != l) { return -1; }
  return i32(l);
}

// ---- softmax_rows ----
@group(0) @binding(1) var<storage, read> sr_logits: array<f32>;
@group(0) @binding(2) var<storage, read> sr_labels: array<f32>;
@group(0) @binding(3) var<storage, read_write> sr_probs: array<f32>;
@group(0) @binding(4) var<storage, read_write> sr_loss: array<f32>;

@compute @workgroup_size(256)
fn softmax_rows(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let n = flat(gid, groups);
  if (n >= p.total) { return; }
  let row = n * p.k;
  var mx = sr_logits[row];
  for (var j = 1u; j < p.k; j++) { mx = max(mx, sr_logits[row + j]); }
  var s = 0.0;
  for (var j = 0u; j < p.k; j++) { s += exp(sr_logits[row + j] - mx); }
  let lse = mx + log(s);
  for (var j = 0u; j < p.k; j++) { sr_probs[row + j] = exp(sr_logits[row + j] - lse); }
  let l = label_index(sr_labels[n]);
  if (l < 0) {
    // A quiet NaN from runtime bits (a constant NaN does not compile).
    sr_loss[n] = bitcast<f32>(0x7fc00000u | (p.k & 0u));
  } else {
    sr_loss[n] = lse - sr_logits[row + u32(l)];
  }
}

// ---- mean_loss: loss[0] = mean of rows values; dispatched as exactly one workgroup ----
@group(0) @binding(1) var<storage, read> ml_rows: array<f32>;
@group(0) @binding(2) var<storage, read_write> ml_loss: array<f32>;
var<workgroup> red: array<f32, 256>;

@compute @workgroup_size(256)
fn mean_loss(@builtin(local_invocation_index) lid: u32) {
  var s = 0.0;
  for (var i = lid; i < p.rows; i += 256u) { s += ml_rows[i]; }
  red[lid] = s;
  for (var h = 128u; h > 0u; h = h >> 1u) {
    workgroupBarrier();
    if (lid < h) { red[lid] += red[lid + h]; }
  }
  if (lid == 0u) { ml_loss[0] = red[0] / f32(p.rows); }
}

// ---- xent_backward: d = (probs - onehot(label)) * scale ----
@group(0) @binding(1) var<storage, read> xb_probs: array<f32>;
@group(0) @binding(2) var<storage, read> xb_labels: array<f32>;
@group(0) @binding(3) var<storage, read_write> xb_d: array<f32>;

@compute @workgroup_size(256)
fn xent_backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.total) { return; }
  let n = i / p.k;
  let j = i32(i - n * p.k);
  let hot = select(0.0, 1.0, label_index(xb_labels[n]) == j);
  xb_d[i] = (xb_probs[i] - hot) * p.scale;
}
