// Unary activations, forward and backward (src/engine/unary-act.ts has their definitions and the CPU reference).
// p.kind is the index in UNARY_ACT_KINDS: 0 sigmoid, 1 tanh, 2 hardsigmoid, 3 hardswish, 4 silu, 5 leakyrelu,
// 6 clip, 7 gelu (erf form), 8 gelu_tanh. struct Act { n: u32, kind: u32, alpha: f32, beta: f32 } is declared in src/engine/webgpu/ops/activation.ts
// (uniforms(): the WGSL struct and the TypeScript packer from one declaration) and prepended to this source.

@group(0) @binding(0) var<uniform> p: Act;
@group(0) @binding(1) var<storage, read> a: array<f32>;
@group(0) @binding(2) var<storage, read> b: array<f32>;
@group(0) @binding(3) var<storage, read_write> out: array<f32>;
@group(0) @binding(2) var<storage, read_write> out1: array<f32>;

fn flat(gid: vec3u, groups: vec3u) -> u32 {
  return gid.x + gid.y * groups.x * 256u;
}

// Never overflows: exp of a non-positive argument only.
fn sigmoid(x: f32) -> f32 {
  let e = exp(-abs(x));
  return select(e / (1.0 + e), 1.0 / (1.0 + e), x >= 0.0);
}

// tanh from exp of a non-positive argument (some implementations of the builtin return NaN for large |x|).
fn tanh_safe(x: f32) -> f32 {
  let e = exp(-2.0 * abs(x));
  let t = (1.0 - e) / (1.0 + e);
  return select(-t, t, x >= 0.0);
}

// Abramowitz & Stegun 7.1.26: |error| < 1.5e-7 (the CPU reference computes erf in double precision).
fn erf_as(x: f32) -> f32 {
  let a = abs(x);
  let t = 1.0 / (1.0 + 0.3275911 * a);
  let poly = t * (0.254829592 + t * (-0.284496736 + t * (1.421413741 + t * (-1.453152027 + t * 1.061405429))));
  let r = 1.0 - poly * exp(-a * a);
  return select(-r, r, x >= 0.0);
}

const GELU_C: f32 = 0.7978845608028654; // √(2/π)

fn gelu_tanh_inner(x: f32) -> f32 {
  return tanh_safe(GELU_C * (x + 0.044715 * x * x * x));
}

fn act(x: f32) -> f32 {
  switch p.kind {
    case 0u: { return sigmoid(x); }
    case 1u: { return tanh_safe(x); }
    case 2u: { return clamp(p.alpha * x + p.beta, 0.0, 1.0); }
    case 3u: { return x * clamp(x / 6.0 + 0.5, 0.0, 1.0); }
    case 4u: { return x * sigmoid(x); }
    case 5u: { return select(p.alpha * x, x, x >= 0.0); }
    case 7u: { return 0.5 * x * (1.0 + erf_as(x * 0.7071067811865476)); }
    case 8u: { return 0.5 * x * (1.0 + gelu_tanh_inner(x)); }
    default: { return min(max(x, p.alpha), p.beta); }
  }
}

fn act_grad(x: f32) -> f32 {
  switch p.kind {
    // s (1 - s) and 1 - t² written without the cancellation near saturation
    case 0u: { let e = exp(-abs(x)); let d = 1.0 + e; return e / (d * d); }
    case 1u: { let e = exp(-2.0 * abs(x)); let d = 1.0 + e; return 4.0 * e / (d * d); }
    case 2u: { let v = p.alpha * x + p.beta; return select(0.0, p.alpha, v > 0.0 && v < 1.0); }
    case 3u: { return select(select(x / 3.0 + 0.5, 1.0, x > 3.0), 0.0, x < -3.0); }
    case 4u: { return sigmoid(x) * (1.0 + x * sigmoid(-x)); }
    case 5u: { return select(p.alpha, 1.0, x > 0.0); }
    case 7u: { return 0.5 * (1.0 + erf_as(x * 0.7071067811865476)) + x * exp(-0.5 * x * x) * 0.3989422804014327; }
    case 8u: {
      // 1 - t² as 4e / (1 + e)² (e = exp(-2|u|)): no cancellation where tanh saturates
      let u = GELU_C * (x + 0.044715 * x * x * x);
      let e = exp(-2.0 * abs(u));
      let t = select(-1.0, 1.0, u >= 0.0) * (1.0 - e) / (1.0 + e);
      let s = 4.0 * e / ((1.0 + e) * (1.0 + e));
      // saturated: 0 · (x · x) would be NaN for huge |x|
      return select(0.5 * (1.0 + t) + 0.5 * x * s * GELU_C * (1.0 + 0.134145 * x * x), 0.5 * (1.0 + t), s == 0.0);
    }
    default: { return select(0.0, 1.0, x > p.alpha && x < p.beta); }
  }
}

// out1 = f(a)
@compute @workgroup_size(256)
fn forward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  out1[i] = act(a[i]);
}

// out = dy · f'(x), dy = a, x = b
@compute @workgroup_size(256)
fn backward(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) groups: vec3u) {
  let i = flat(gid, groups);
  if (i >= p.n) { return; }
  out[i] = a[i] * act_grad(b[i]);
}
