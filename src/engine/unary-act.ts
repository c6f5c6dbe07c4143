/**
 * The unary activations computed by one kernel each way (Backend.unaryAct / unaryActBackward), selected by kind:
 * their scalar definitions live here once, for the CPU reference (src/engine/reference/activation.ts), the WGSL
 * kernel's kind codes (shaders/activation.wgsl) and the lookup tables built at convert time (src/ops/activation).
 * Semantics are ONNX's / PyTorch's:
 *   sigmoid      1 / (1 + e^-x)
 *   tanh         tanh x
 *   hardsigmoid  max(0, min(1, alpha x + beta))          (PyTorch's nn.Hardsigmoid: alpha 1/6, beta 1/2)
 *   hardswish    x · max(0, min(1, x / 6 + 1/2))
 *   silu         x · sigmoid(x)                           (Swish; PyTorch exports it as Sigmoid + Mul)
 *   leakyrelu    x ≥ 0 ? x : alpha x
 *   clip         min(max(x, alpha), beta)                 (Clip with bounds other than ReLU / ReLU6)
 *   gelu         x · Φ(x) = x · (1 + erf(x / √2)) / 2      (nn.GELU(); exported as Div / Erf / Add / Mul / Mul)
 *   gelu_tanh    x · (1 + tanh(√(2/π) (x + 0.044715 x³))) / 2   (nn.GELU(approximate='tanh'))
 * Derivatives as PyTorch's backward kernels (0 on the flat parts, the one-sided value at the kinks).
 */
export const UNARY_ACT_KINDS = ['sigmoid', 'tanh', 'hardsigmoid', 'hardswish', 'silu', 'leakyrelu', 'clip', 'gelu', 'gelu_tanh'] as const;
export type UnaryActKind = (typeof UNARY_ACT_KINDS)[number];

export interface UnaryAct {
  kind: UnaryActKind;
  /** hardsigmoid: slope; leakyrelu: negative slope; clip: lower bound (else unused, 0). */
  alpha: number;
  /** hardsigmoid: offset; clip: upper bound (else unused, 0). */
  beta: number;
}

/** The kind's code in the WGSL kernel (its index in UNARY_ACT_KINDS). */
export const unaryActCode = (k: UnaryActKind): number => UNARY_ACT_KINDS.indexOf(k);

/**
 * erf in double precision: its Maclaurin series below 2.5, the continued fraction of erfc above (both to ~1e-15);
 * the WGSL kernel uses Abramowitz & Stegun 7.1.26 (|error| < 1.5e-7, below float32's resolution of GELU's output).
 */
export function erf(x: number): number {
  const a = Math.abs(x);
  if (a < 2.5) {
    // erf x = 2/√π Σ (-1)^n x^(2n+1) / (n! (2n+1))
    let term = a, sum = a;
    for (let n = 1; n < 60 && Math.abs(term) > 1e-17 * Math.abs(sum); n++) {
      term *= -a * a / n;
      sum += term / (2 * n + 1);
    }
    return Math.sign(x) * sum * 2 / Math.sqrt(Math.PI);
  }
  // erfc a = e^{-a²}/√π · 1 / (a + (1/2) / (a + 1 / (a + (3/2) / (a + 2 / (a + ...))))), evaluated bottom-up
  let f = a;
  for (let k = 60; k >= 1; k--) f = a + (k / 2) / f;
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const GELU_C = Math.sqrt(2 / Math.PI);

const sigmoid = (x: number) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x)));

/** f(x) in double precision. */
export function unaryActValue(a: UnaryAct, x: number): number {
  switch (a.kind) {
    case 'sigmoid': return sigmoid(x);
    case 'tanh': return Math.tanh(x);
    case 'hardsigmoid': return Math.max(0, Math.min(1, a.alpha * x + a.beta));
    case 'hardswish': return x * Math.max(0, Math.min(1, x / 6 + 0.5));
    case 'silu': return x * sigmoid(x);
    case 'leakyrelu': return x >= 0 ? x : a.alpha * x;
    case 'clip': return x < a.alpha ? a.alpha : x > a.beta ? a.beta : x;
    case 'gelu': return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'gelu_tanh': return 0.5 * x * (1 + Math.tanh(GELU_C * (x + 0.044715 * x * x * x)));
  }
}

/** f'(x) in double precision. */
export function unaryActDerivative(a: UnaryAct, x: number): number {
  switch (a.kind) {
    case 'sigmoid': {
      const s = sigmoid(x);
      return s * (1 - s);
    }
    case 'tanh': {
      const t = Math.tanh(x);
      return 1 - t * t;
    }
    case 'hardsigmoid': {
      const v = a.alpha * x + a.beta;
      return v > 0 && v < 1 ? a.alpha : 0;
    }
    case 'hardswish': return x < -3 ? 0 : x > 3 ? 1 : x / 3 + 0.5;
    case 'silu': {
      const s = sigmoid(x);
      return s * (1 + x * (1 - s));
    }
    case 'leakyrelu': return x > 0 ? 1 : a.alpha;
    case 'clip': return x > a.alpha && x < a.beta ? 1 : 0;
    case 'gelu': return 0.5 * (1 + erf(x / Math.SQRT2)) + x * Math.exp(-0.5 * x * x) / Math.sqrt(2 * Math.PI);
    case 'gelu_tanh': {
      const t = Math.tanh(GELU_C * (x + 0.044715 * x * x * x));
      return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * GELU_C * (1 + 3 * 0.044715 * x * x);
    }
  }
}
