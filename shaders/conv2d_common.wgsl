// Shared by conv2d_forward / conv2d_backward_input / conv2d_backward_weight / channel_sum.wgsl: the
// uniform, the bindings and the flat invocation index. src/engine/webgpu/ops/conv2d.ts prepends this file
// to each of them (WGSL has no include). Convolution = cross-correlation, like PyTorch; NCHW, OIHW weights.
//
// Work split (one invocation = a register tile; loads are reused across the tile). The host picks
// 8, 4 or 1 channels per invocation (8 and 4 share an entry point, specialised by the
// pipeline-overridable constant WIDE), whichever keeps at least 3/4 of the lanes busy:
//   forward          8 output channels (same group; 4 with WIDE = false) x 4 output columns of one
//                    row, interleaved (ow = xb + j * XB, so neighbouring invocations touch
//                    neighbouring columns): 12 loads per 32 multiply-adds
//   forward_1        1 output channel x 4 output columns (Og < 4 layers; depthwise layers with
//                    column stride 1 or 2, KW <= 4 and no column dilation run the sliding-window
//                    kernels of conv2d_depthwise.wgsl instead, the rest come here)
//   backward_input   8 / 4 input channels (WIDE true / false, same group) x 4 input columns of one
//                    row that share the same residue mod strideW, so every tap is valid or invalid
//                    for all of them and their dy values are 4 consecutive output columns
//   backward_input_1 1 input channel x 4 such columns (depthwise)
//   backward_weight  8 / 4 output channels (WIDE) x 4 input channels at one kernel tap, reducing over a
//                    chunk of the batch x the output rows/columns where that tap lands inside the
//                    image (range precomputed: no bounds checks in the hot loop); with more than one
//                    chunk each writes partial sums that `reduce_partials` adds up
//   backward_weight_1 1 weight element per invocation (depthwise: Cg = Og = 1)
//   channel_sum      one workgroup of 64 per channel, 2 barriers
// Invocations are numbered flat over a 2-D grid of 64-wide workgroups (gid.x + gid.y * nwg.x * 64).

struct Params {
  N: i32, C: i32, H: i32, W: i32,
  O: i32, OH: i32, OW: i32, KH: i32,
  KW: i32, sH: i32, sW: i32, pH: i32,
  pW: i32, dH: i32, dW: i32, G: i32,
  Cg: i32, Og: i32,
  // channel blocks per group (forward: of Og, backward_input: of Cg, backward_weight: of Og)
  CB: i32,
  // column blocks per row (forward*: ceil(OW/4); backward_input*: sW * ceil(ceil(W/sW)/4));
  // backward_weight: input-channel blocks per group
  XB: i32,
  // backward_input: ceil(ceil(W/sW)/4) (blocks per residue)
  QB: i32,
  // invocations that do work
  total: i32,
  // forward: 1 when a bias is bound; backward_weight: images per chunk
  extra: i32,
  // backward_weight / reduce_partials: number of chunks (partial sums)
  S: i32,
}

@group(0) @binding(0) var<uniform> p: Params;

// ---- bindings, per entry point (an entry point uses only its own) ----
// forward*: x, w, b, y
@group(0) @binding(1) var<storage, read> fx: array<f32>;
@group(0) @binding(2) var<storage, read> fw: array<f32>;
@group(0) @binding(3) var<storage, read> fb: array<f32>;
@group(0) @binding(4) var<storage, read_write> fy: array<f32>;
// backward_input*: dy, w -> dx;  backward_weight*: dy, x -> dw (or partials)
@group(0) @binding(1) var<storage, read> bdy: array<f32>;
@group(0) @binding(2) var<storage, read> bin: array<f32>;
@group(0) @binding(3) var<storage, read_write> bout: array<f32>;
// reduce_partials: partials -> dw;  channel_sum: x -> s
@group(0) @binding(1) var<storage, read> rin: array<f32>;
@group(0) @binding(2) var<storage, read_write> rout: array<f32>;

const WG: u32 = 64u;

fn flat(gid: vec3u, nwg: vec3u) -> i32 {
  return i32(gid.x + gid.y * nwg.x * WG);
}

// reduce_partials: out[i] = sum_s part[s * total + i]
@compute @workgroup_size(64)
fn reduce_partials(@builtin(global_invocation_id) gid: vec3u, @builtin(num_workgroups) nwg: vec3u) {
  let i = flat(gid, nwg);
  if (i >= p.total) { return; }
  var acc = 0.0;
  var k = i;
  for (var s = 0; s < p.S; s++) {
    acc += rin[k];
    k += p.total;
  }
  rout[i] = acc;
}

