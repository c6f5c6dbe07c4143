// Optimizer steps in place (PyTorch semantics), one invocation per parameter element, 2-D grid of
// 256-lane workgroups. Hyper-parameters and Adam's bias corrections are computed on the host.
struct Params {
  n: u32,
  lr: f32,
  wd: f32,
  momentum: f32,       // SGD momentum; Adam beta1
  damp: f32,           // SGD: 1 - dampening; Adam: beta2
  one_minus_b1: f32,   // Adam
  one_minus_b2: f32,   // Adam
  eps: f32,            // Adam
  decay: f32,          // AdamW: 1 - lr * wd
  bc1: f32,            // Adam: 1 - beta1^t
  bc2: f32,            // Adam: 1 - beta2^t
  flags: u32,          // SGD: 1 = nesterov, 2 = first step; Adam: 1 = decoupled (AdamW)
}

@group(0) @binding(0) var<uniform> p: Params;
@group(0) @binding(1) var<storage, read> grad: array<f32>;
@group(0) @binding(2) var<storage, read_write> param: array<f32>;
@group(0) @binding(3) var<storage, read_write> state_a: array<f32>; // SGD momentum buffer; Adam m
@group(0) @binding(4) var<storage, read_write> state_b: array<f32>; // Adam v

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

// g = grad + wd * param; param -= lr * g.
@compute @workgroup_size(256)
fn sgd(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  let w = param[i];
  var g = grad[i];
  if (p.wd != 0.0) { g += p.wd * w; }
  param[i] = w - p.lr * g;
}

// buf = g on the first step, else momentum * buf + (1 - dampening) * g;
// g = nesterov ? g + momentum * buf : buf; param -= lr * g.
@compute @workgroup_size(256)
fn sgd_momentum(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  let w = param[i];
  var g = grad[i];
  if (p.wd != 0.0) { g += p.wd * w; }
  var buf = g;
  if ((p.flags & 2u) == 0u) { buf = p.momentum * state_a[i] + p.damp * g; }
  state_a[i] = buf;
  if ((p.flags & 1u) != 0u) { g = g + p.momentum * buf; } else { g = buf; }
  param[i] = w - p.lr * g;
}

// Adam: g = grad + wd * param; AdamW: param *= 1 - lr * wd. Then
// m = b1 m + (1 - b1) g; v = b2 v + (1 - b2) g^2; param -= lr * (m / bc1) / (sqrt(v / bc2) + eps).
@compute @workgroup_size(256)
fn adam(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  var w = param[i];
  var g = grad[i];
  if (p.wd != 0.0) {
    if ((p.flags & 1u) != 0u) { w = w * p.decay; } else { g += p.wd * w; }
  }
  let m = p.momentum * state_a[i] + p.one_minus_b1 * g;
  let v = p.damp * state_b[i] + p.one_minus_b2 * g * g;
  state_a[i] = m;
  state_b[i] = v;
  param[i] = w - p.lr * (m / p.bc1) / (sqrt(v / p.bc2) + p.eps);
}
