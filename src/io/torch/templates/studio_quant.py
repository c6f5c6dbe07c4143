"""Quant Studio runtime for an exported model (copied verbatim into every export; model.py imports it).

What it holds, and why each piece matches the studio bit for bit:
  - safetensors read/write (the weights travel as safetensors; no pickle is needed to bring them back);
  - StudioFakeQuantize, a torch.ao FakeQuantizeBase with the studio's semantics (src/quant/quantized-model.ts):
      symmetric, zero point 0, scale = max(f32(amax / ((quant_max - quant_min) / 2)), eps)  (int8: / 127.5);
      activations per tensor, updated only in train mode by a float32 moving average (constant 0: frozen);
      weights per output channel (axis 0), their range taken from the current weights at every forward;
      march bernoulli: scale -> 2^-clamp(floor(-log2 scale), 1, 14);
      rounding half_even: torch.fake_quantize_per_{tensor,channel}_affine itself;
      rounding bpu_round: floor(f32(f32(x * f32(1 / scale)) + 0.5)), clamped, times scale (STE with the same mask);
  - PReLU with the studio's parameter name (slope); LearnedConstant, a ViT's class token or position table (the
    parameter `value`, repeated over the batch; its activation fake quant is the model's, as for any site);
  - the fused modules ConvAddAct2d / ConvTransposeAct2d / LinearAct on torch.ao's QAT Conv2d / Linear (BN is already
    folded into the conv by the studio's fusion; the activation and the add are applied in forward), whose bias goes
    on the int32 grid of the integer model once both scales are known (src/qmath/bias.ts: scale = input scale *
    weight scale[c], round half to even, int32 range, straight-through gradient);
  - loading qparams.json + weights.safetensors into a model, and saving a QAT result in the same form.
"""
import json
import math
import os
import struct

import torch
import torch.nn.functional as F
import torch.ao.nn.qat as nnqat
from torch.ao.quantization import QConfig
from torch.ao.quantization.fake_quantize import FakeQuantizeBase

FORMAT = "quant-studio-torch"
VERSION = 1
EPS = torch.finfo(torch.float32).eps
BERNOULLI_MIN_SHIFT, BERNOULLI_MAX_SHIFT = 1, 14

# ---------------------------------------------------------------------------------------------
# safetensors: 8-byte little-endian header length, a JSON header {name: {dtype, shape, data_offsets}}, raw data

_ST_DTYPES = {"F32": torch.float32, "F64": torch.float64, "I64": torch.int64, "I32": torch.int32, "U8": torch.uint8}
_ST_NAMES = {v: k for k, v in _ST_DTYPES.items()}


def load_safetensors(path):
    with open(path, "rb") as f:
        data = f.read()
    if len(data) < 8:
        raise ValueError(f"{path}: not a safetensors file (only {len(data)} bytes)")
    n = struct.unpack("<Q", data[:8])[0]
    if 8 + n > len(data):
        raise ValueError(f"{path}: header of {n} bytes runs past the end of the file ({len(data)} bytes)")
    header = json.loads(data[8:8 + n].decode("utf-8"))
    base = 8 + n
    out = {}
    for name, info in header.items():
        if name == "__metadata__":
            continue
        dtype = _ST_DTYPES.get(info["dtype"])
        if dtype is None:
            raise ValueError(f"{path}: tensor {name} has unsupported dtype {info['dtype']}")
        b, e = info["data_offsets"]
        if base + e > len(data):
            raise ValueError(f"{path}: tensor {name} runs past the end of the file")
        shape = info["shape"]
        if e == b:
            out[name] = torch.zeros(shape, dtype=dtype)
        else:
            out[name] = torch.frombuffer(bytearray(data[base + b:base + e]), dtype=dtype).reshape(shape).clone()
    return out


def save_safetensors(tensors, path, metadata=None):
    header, blobs, offset = {}, [], 0
    for name, t in tensors.items():
        t = t.detach().cpu().contiguous()
        raw = t.numpy().astype(t.numpy().dtype.newbyteorder("<"), copy=False).tobytes()
        header[name] = {"dtype": _ST_NAMES[t.dtype], "shape": list(t.shape), "data_offsets": [offset, offset + len(raw)]}
        blobs.append(raw)
        offset += len(raw)
    if metadata:
        header["__metadata__"] = {str(k): str(v) for k, v in metadata.items()}
    h = json.dumps(header, separators=(",", ":")).encode("utf-8")
    h += b" " * ((8 - len(h) % 8) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(h)))
        f.write(h)
        for raw in blobs:
            f.write(raw)


# ---------------------------------------------------------------------------------------------
# Fake quantization with the studio's numerics


def _f32_div(a, b):
    """f32(a / b) correctly rounded (in double, then rounded: exact for float32 operands)."""
    return (a.double() / b).float()


def power_of_two_scale(scale):
    """bernoulli: 1 / 2^clamp(floor(-log2(s)), 1, 14), floor(-log2) computed exactly with frexp."""
    out = []
    for s in scale.tolist():
        m, e = math.frexp(s)  # s = m * 2^e, 0.5 <= m < 1
        n = -e + 1 if m == 0.5 else -e
        out.append(2.0 ** -min(BERNOULLI_MAX_SHIFT, max(BERNOULLI_MIN_SHIFT, n)))
    return torch.tensor(out, dtype=torch.float32)


class _BpuRoundFakeQuant(torch.autograd.Function):
    @staticmethod
    def forward(ctx, x, scale, quant_min, quant_max, ch_axis):
        if ch_axis >= 0:
            shape = [1] * x.dim()
            shape[ch_axis] = -1
            scale = scale.reshape(shape)
        inv = (1.0 / scale.double()).float()
        q = torch.floor(x * inv + 0.5)
        mask = (q >= quant_min) & (q <= quant_max)
        ctx.save_for_backward(mask)
        return torch.clamp(q, quant_min, quant_max) * scale

    @staticmethod
    def backward(ctx, grad):
        (mask,) = ctx.saved_tensors
        return grad * mask, None, None, None, None


class StudioFakeQuantize(FakeQuantizeBase):
    """Observer + fake quantization of one site (see the module docstring).

    Buffers: scale, zero_point (always 0), min_val / max_val (the running range), initialized.
    observer_enabled / fake_quant_enabled are torch.ao's switches (disable_observer, enable_fake_quant, ...).
    """

    def __init__(self, channels=1, ch_axis=-1, quant_min=-128, quant_max=127, dtype="qint8", averaging_constant=0.01,
                 power_of_two=False, rounding="half_even", is_weight=False, factory_kwargs=None):
        super().__init__()
        if rounding not in ("half_even", "bpu_round"):
            raise ValueError(f"unknown rounding {rounding}")
        self.ch_axis = ch_axis
        self.quant_min, self.quant_max = int(quant_min), int(quant_max)
        self.dtype_name = dtype
        self.averaging_constant = float(averaging_constant)
        self.power_of_two = bool(power_of_two)
        self.rounding = rounding
        self.is_weight = bool(is_weight)
        self.qscheme = torch.per_channel_symmetric if ch_axis >= 0 else torch.per_tensor_symmetric
        self.register_buffer("scale", torch.ones(channels))
        self.register_buffer("zero_point", torch.zeros(channels, dtype=torch.int32))
        self.register_buffer("min_val", torch.zeros(channels))
        self.register_buffer("max_val", torch.zeros(channels))
        self.register_buffer("initialized", torch.tensor([0], dtype=torch.uint8))

    @torch.jit.export
    def calculate_qparams(self):
        return self.scale, self.zero_point

    def extra_repr(self):
        return (f"dtype={self.dtype_name}, qscheme={self.qscheme}, quant_min={self.quant_min}, quant_max={self.quant_max}, "
                f"ch_axis={self.ch_axis}, averaging_constant={self.averaging_constant}, power_of_two={self.power_of_two}, "
                f"rounding={self.rounding}, scale={self.scale.tolist()[:4]}{'...' if self.scale.numel() > 4 else ''}")

    def _observe(self, x):
        if self.ch_axis >= 0:
            flat = x.transpose(0, self.ch_axis).reshape(x.shape[self.ch_axis], -1)
            mn, mx = flat.min(dim=1).values, flat.max(dim=1).values
        else:
            mn, mx = x.min().reshape(1), x.max().reshape(1)
        first = self.is_weight or int(self.initialized[0]) == 0
        if first:
            rmin, rmax = mn, mx
        elif self.averaging_constant != 0:
            c = torch.tensor(self.averaging_constant, dtype=torch.float32)
            rmin = self.min_val + c * (mn - self.min_val)
            rmax = self.max_val + c * (mx - self.max_val)
        else:
            rmin, rmax = self.min_val, self.max_val
        self.min_val.copy_(rmin)
        self.max_val.copy_(rmax)
        amax = torch.maximum(-torch.clamp(rmin, max=0.0), torch.clamp(rmax, min=0.0))
        scale = torch.clamp(_f32_div(amax, (self.quant_max - self.quant_min) / 2), min=EPS)
        if self.power_of_two:
            scale = power_of_two_scale(scale)
        self.scale.copy_(scale)
        self.zero_point.zero_()
        self.initialized.fill_(1)

    def forward(self, x):
        if int(self.observer_enabled[0]) == 1:
            # weights: every forward (the range of the current weights); activations: train mode only
            if self.is_weight or (self.training and (int(self.initialized[0]) == 0 or self.averaging_constant != 0)):
                with torch.no_grad():
                    self._observe(x.detach())
        if int(self.fake_quant_enabled[0]) == 0:
            return x
        if int(self.initialized[0]) == 0:
            raise RuntimeError("StudioFakeQuantize: no scale yet (load the exported qparams or run a train-mode forward)")
        if self.rounding == "bpu_round":
            return _BpuRoundFakeQuant.apply(x, self.scale, self.quant_min, self.quant_max, self.ch_axis)
        if self.ch_axis >= 0:
            return torch.fake_quantize_per_channel_affine(x, self.scale, self.zero_point, self.ch_axis, self.quant_min, self.quant_max)
        return torch.fake_quantize_per_tensor_affine(x, self.scale, self.zero_point, self.quant_min, self.quant_max)


def fake_quant(spec, qc, channels=1, is_weight=False):
    """A StudioFakeQuantize for one site of qparams.json."""
    return StudioFakeQuantize(channels=channels, ch_axis=0 if is_weight else -1, quant_min=spec["quant_min"],
                              quant_max=spec["quant_max"], dtype=spec["dtype"], averaging_constant=spec["averaging_constant"],
                              power_of_two=qc["power_of_two_scales"], rounding=qc["rounding"], is_weight=is_weight)


def weight_qconfig(spec, qc, channels):
    """A torch.ao QConfig whose weight factory makes this layer's per-channel StudioFakeQuantize."""
    make_act = StudioFakeQuantize.with_args(power_of_two=qc["power_of_two_scales"], rounding=qc["rounding"])
    make_w = StudioFakeQuantize.with_args(channels=channels, ch_axis=0, quant_min=spec["quant_min"], quant_max=spec["quant_max"],
                                          dtype=spec["dtype"], averaging_constant=1.0, power_of_two=qc["power_of_two_scales"],
                                          rounding=qc["rounding"], is_weight=True)
    return QConfig(activation=make_act, weight=make_w)


# ---------------------------------------------------------------------------------------------
# Fused modules with the studio's bias


def _fake_quant_on(fq):
    return fq is not None and int(fq.fake_quant_enabled[0]) == 1 and int(fq.initialized[0]) == 1


def link_bias_input(module, input_fq):
    """The activation fake quant whose scale the module's bias grid uses. Kept outside the module tree
    (object.__setattr__), so that state_dict() and modules() stay torch.ao's."""
    object.__setattr__(module, "bias_input_fq", input_fq)


class _Int32Bias:
    """bias_q(): the bias on the int32 grid at f32(input scale * weight scale[c]) (nearbyint, saturated, STE), as the
    studio's fake-quant model and its integer model add it; the float bias while a scale is not known (fake quant
    off, or no input site). Call after weight_fake_quant, which sets this forward's weight scales."""

    def bias_q(self):
        b, x_fq, w_fq = self.bias, getattr(self, "bias_input_fq", None), self.weight_fake_quant
        if b is None or not _fake_quant_on(x_fq) or not _fake_quant_on(w_fq):
            return b
        scale = x_fq.scale * w_fq.scale
        return torch.fake_quantize_per_channel_affine(b, scale, torch.zeros(scale.shape, dtype=torch.int32), 0,
                                                      -2 ** 31, 2 ** 31 - 1)

def _act(y, act):
    if act == "relu":
        return F.relu(y)
    if act == "relu6":
        return F.relu6(y)
    return y


class ConvAddAct2d(_Int32Bias, nnqat.Conv2d):
    """act(conv(x, fake_quant(w), b_q) + other): the studio's conv with its fused add and activation (if any)."""

    def __init__(self, *args, act=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.act = act

    def forward(self, x, other=None):
        y = self._conv_forward(x, self.weight_fake_quant(self.weight), self.bias_q())
        if other is not None:
            y = y + other
        return _act(y, self.act)


class ConvTransposeAct2d(_Int32Bias, nnqat.Conv2d):
    """act(conv_transpose(x, fake_quant(w), b)): the studio's ConvTranspose. Its weight is kept conv-like, [C_out,
    C_in/G, KH, KW] (quantized per output channel, the state_dict as the studio's graph), and permuted to PyTorch's
    [C_in, C_out/G, KH, KW] for F.conv_transpose2d."""

    def __init__(self, *args, act=None, output_padding=(0, 0), **kwargs):
        super().__init__(*args, **kwargs)
        self.act = act
        self.output_padding = tuple(output_padding)

    def forward(self, x):
        w = self.weight_fake_quant(self.weight)
        o, cg, kh, kw = w.shape
        g = self.groups
        wt = w.reshape(g, o // g, cg, kh, kw).transpose(1, 2).reshape(cg * g, o // g, kh, kw)
        y = F.conv_transpose2d(x, wt, self.bias_q(), self.stride, self.padding, self.output_padding, g, self.dilation)
        return _act(y, self.act)


class LinearAct(_Int32Bias, nnqat.Linear):
    """act(linear(x, fake_quant(w), b_q)): the studio's linear with its fused activation (if any)."""

    def __init__(self, *args, act=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.act = act

    def forward(self, x):
        w = self.weight_fake_quant(self.weight)
        return _act(F.linear(x, w, self.bias_q()), self.act)


class PReLU(torch.nn.Module):
    """y = x if x >= 0 else slope[c] * x: nn.PReLU with its parameter named `slope`, as in the studio's graph (so
    the state_dict keys stay the studio's). One slope, or one per channel of an NCHW / NC input."""

    def __init__(self, num_parameters=1):
        super().__init__()
        self.slope = torch.nn.Parameter(torch.full((num_parameters,), 0.25))

    def forward(self, x):
        return F.prelu(x, self.slope)


class LearnedConstant(torch.nn.Module):
    """A learned per-sample tensor repeated over the batch: a ViT's class token [1, D] or position table [T, D]
    (the studio's `constant` op; its parameter is named `value`, as in the studio's graph). forward(batch) returns
    [batch, *shape], a view: the gradient of every sample sums into the one parameter."""

    def __init__(self, shape):
        super().__init__()
        self.value = torch.nn.Parameter(torch.zeros(shape))

    def forward(self, batch):
        return self.value.unsqueeze(0).expand(batch, *self.value.shape)


def conv_module(spec, qc, info):
    c = info["conv"]
    wq = weight_qconfig(spec, qc, info["out_channels"])
    args = (info["in_channels"], info["out_channels"], (info["kernel"][0], info["kernel"][1]))
    kw = dict(stride=(c["strideH"], c["strideW"]), padding=(c["padH"], c["padW"]), dilation=(c["dilationH"], c["dilationW"]),
              groups=c["groups"], bias=info["bias"], qconfig=wq)
    return ConvAddAct2d(*args, act=info.get("act"), **kw)


def conv_transpose_module(spec, qc, info):
    c = info["conv"]
    wq = weight_qconfig(spec, qc, info["out_channels"])
    return ConvTransposeAct2d(info["in_channels"], info["out_channels"], (info["kernel"][0], info["kernel"][1]),
                              stride=(c["strideH"], c["strideW"]), padding=(c["padH"], c["padW"]),
                              dilation=(c["dilationH"], c["dilationW"]), groups=c["groups"], bias=info["bias"], qconfig=wq,
                              act=info.get("act"), output_padding=info.get("output_padding") or (0, 0))


def linear_module(spec, qc, info):
    wq = weight_qconfig(spec, qc, info["out_features"])
    return LinearAct(info["in_features"], info["out_features"], bias=info["bias"], act=info.get("act"), qconfig=wq)


# ---------------------------------------------------------------------------------------------
# Loading and saving the exported state


def read_qparams(folder):
    with open(os.path.join(folder, "qparams.json"), encoding="utf-8") as f:
        q = json.load(f)
    if q.get("format") != FORMAT:
        raise ValueError(f"{folder}/qparams.json: not a Quant Studio export (format {q.get('format')!r})")
    return q


def load_state(model, folder, q):
    """Float weights from weights.safetensors, every fake-quant site's scale and running range from qparams.json."""
    state = model.state_dict()
    tensors = load_safetensors(os.path.join(folder, "weights.safetensors"))
    for name, t in tensors.items():
        if name not in state:
            raise KeyError(f"{folder}/weights.safetensors: {name} is not a parameter of the model")
        if tuple(state[name].shape) != tuple(t.shape):
            raise ValueError(f"{folder}/weights.safetensors: {name} has shape {list(t.shape)}, the model {list(state[name].shape)}")
        state[name] = t
    for prefix, site in list(q["activations"].items()) + list(q["weights"].items()):
        if site.get("scale") is None:
            continue
        state[f"{prefix}.scale"] = torch.tensor(site["scale"], dtype=torch.float32)
        state[f"{prefix}.zero_point"] = torch.tensor(site["zero_point"], dtype=torch.int32)
        state[f"{prefix}.min_val"] = torch.tensor(site["min_val"], dtype=torch.float32)
        state[f"{prefix}.max_val"] = torch.tensor(site["max_val"], dtype=torch.float32)
        state[f"{prefix}.initialized"] = torch.tensor([1], dtype=torch.uint8)
    model.load_state_dict(state)


def set_mode(model, qat):
    """qat=False: fake-quant evaluation (eval mode, observers off, fake quant on).
    qat=True: train mode, observers live (activations: moving average; weights: their current range), fake quant on."""
    model.train(qat)
    model.apply(torch.ao.quantization.enable_fake_quant)
    model.apply(torch.ao.quantization.enable_observer if qat else torch.ao.quantization.disable_observer)
    return model


def refresh_weight_scales(model):
    """Weight scales from the current weights (the studio's rule): after the last optimizer step the scales a
    train-mode forward observed belong to the weights before that step."""
    model = model.module if hasattr(model, "module") else model
    with torch.no_grad():
        for m in model.modules():
            fq = getattr(m, "weight_fake_quant", None)
            if isinstance(fq, StudioFakeQuantize):
                fq._observe(m.weight.detach())


def save_checkpoint(model, folder, out):
    """A QAT result the studio imports (npm run cli -- import-torch): weights.safetensors (float weights, the model's
    parameter names), qparams.json (every site's scale and running range) and studio-graph.json, copied from the
    export. Safetensors + JSON rather than a pickle: the studio (TypeScript, in the browser too) reads them without a
    Python unpickler, and nothing in them can execute code."""
    os.makedirs(out, exist_ok=True)
    model = model.module if hasattr(model, "module") else model
    refresh_weight_scales(model)
    q = read_qparams(folder)
    state = model.state_dict()
    weights = {}
    for mod in q["modules"].values():
        for key in mod["params"]:
            weights[key] = state[key]
    for prefix, site in list(q["activations"].items()) + list(q["weights"].items()):
        site["scale"] = state[f"{prefix}.scale"].tolist()
        site["zero_point"] = state[f"{prefix}.zero_point"].tolist()
        site["min_val"] = state[f"{prefix}.min_val"].tolist()
        site["max_val"] = state[f"{prefix}.max_val"].tolist()
    q["stage"] = "qat"
    q["source"] = "pytorch"
    save_safetensors(weights, os.path.join(out, "weights.safetensors"), {"format": FORMAT})
    with open(os.path.join(out, "qparams.json"), "w", encoding="utf-8") as f:
        json.dump(q, f, indent=1)
    with open(os.path.join(folder, "studio-graph.json"), encoding="utf-8") as src, \
            open(os.path.join(out, "studio-graph.json"), "w", encoding="utf-8") as dst:
        dst.write(src.read())
