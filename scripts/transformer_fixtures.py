"""
Transformer fixtures of the importer (imported by make-onnx-fixtures.py; run that with --vit):

  vit_tiny.onnx   a ViT encoder on 3x16x16, opset 13 (the opset-13 exporter's decompositions): a 4x4 stride-4
                  patch-embedding conv, a conditional position encoding (depthwise 3x3 conv added to the patch grid,
                  as CPVT / PVTv2 do, instead of a learned table), flatten + transpose to 16 tokens of 32, two
                  pre-norm encoder layers (LayerNorm as ReduceMean / Sub / Pow / ReduceMean / Add / Sqrt / Div /
                  Mul / Add; 2-head self-attention with separate q / k / v projections (MatMul + Add on [tokens,
                  dim]), the head split Reshape + Transpose, q @ k^T as Transpose + MatMul, scaling Mul, Softmax,
                  attn @ v, the head merge Transpose + Reshape; an MLP with GELU, the Erf form in layer 1 and the
                  tanh form in layer 2), a final LayerNorm, mean pooling over the tokens (ReduceMean) and a
                  10-class head (Gemm).
  vit_cls.onnx    a timm-style ViT on 3x32x32 (patch 8: 16 tokens of 32), opset 13: a learned class token [1, 1, 32]
                  expanded to the batch (Expand with a Shape / Gather / ConstantOfShape / Where subgraph) and
                  concatenated before the patch tokens, a learned position table [1, 17, 32] added with
                  broadcasting, two encoder layers as above, a final LayerNorm and the class token's output
                  (Gather of token 0) into the head. vit_cls17.onnx: the same at opset 17 (LayerNormalization).
"""
import math

import torch
import torch.nn as nn


class Attention(nn.Module):
    def __init__(self, dim, heads):
        super().__init__()
        self.heads = heads
        self.scale = (dim // heads) ** -0.5
        self.q = nn.Linear(dim, dim)
        self.k = nn.Linear(dim, dim)
        self.v = nn.Linear(dim, dim)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x):
        b, t, d = x.shape
        h = self.heads
        q = self.q(x).reshape(b, t, h, d // h).transpose(1, 2)
        k = self.k(x).reshape(b, t, h, d // h).transpose(1, 2)
        v = self.v(x).reshape(b, t, h, d // h).transpose(1, 2)
        a = (q @ k.transpose(-2, -1)) * self.scale
        a = a.softmax(dim=-1)
        o = (a @ v).transpose(1, 2).reshape(b, t, d)
        return self.proj(o)


class EncoderLayer(nn.Module):
    def __init__(self, dim, heads, hidden, gelu):
        super().__init__()
        self.norm1 = nn.LayerNorm(dim)
        self.attn = Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim)
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU(approximate=gelu)
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x):
        x = x + self.attn(self.norm1(x))
        return x + self.fc2(self.act(self.fc1(self.norm2(x))))


class TinyViT(nn.Module):
    def __init__(self, dim=32, heads=2, hidden=64, classes=10):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, 4, stride=4)
        self.pos = nn.Conv2d(dim, dim, 3, padding=1, groups=dim)
        self.layers = nn.Sequential(EncoderLayer(dim, heads, hidden, 'none'), EncoderLayer(dim, heads, hidden, 'tanh'))
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch(x)
        x = x + self.pos(x)
        x = x.flatten(2).transpose(1, 2)
        x = self.norm(self.layers(x))
        return self.head(x.mean(dim=1))


def randomize_norms(model, gen):
    """Non-trivial LayerNorm affine parameters, so that they are actually tested."""
    for m in model.modules():
        if isinstance(m, nn.LayerNorm):
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=gen) * 0.8 + 0.6)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=gen) * 0.2)


def vit(export):
    torch.manual_seed(14)
    model = TinyViT()
    randomize_norms(model, torch.Generator().manual_seed(14))
    export(model, (3, 16, 16), 'vit_tiny.onnx', 13, preserve_bn=False)


class ClsViT(nn.Module):
    """timm-style ViT: a learned class token [1, 1, D] expanded to the batch and put before the patch tokens, a
    learned position table [1, T + 1, D] added with broadcasting, and the class token's output as the readout."""

    def __init__(self, dim=32, heads=2, hidden=64, classes=10, patch=8, size=32, layers=2):
        super().__init__()
        self.patch = nn.Conv2d(3, dim, patch, stride=patch)
        tokens = (size // patch) ** 2
        self.cls_token = nn.Parameter(torch.randn(1, 1, dim) * 0.5)
        self.pos_embed = nn.Parameter(torch.randn(1, tokens + 1, dim) * 0.3)
        self.layers = nn.Sequential(*[EncoderLayer(dim, heads, hidden, 'none' if i % 2 == 0 else 'tanh') for i in range(layers)])
        self.norm = nn.LayerNorm(dim)
        self.head = nn.Linear(dim, classes)

    def forward(self, x):
        x = self.patch(x).flatten(2).transpose(1, 2)
        cls = self.cls_token.expand(x.shape[0], -1, -1)
        x = torch.cat((cls, x), dim=1) + self.pos_embed
        x = self.norm(self.layers(x))
        return self.head(x[:, 0])


def vit_cls(export):
    """vit_cls.onnx (opset 13) and vit_cls17.onnx (opset 17: LayerNormalization where the exporter writes it)."""
    torch.manual_seed(15)
    model = ClsViT()
    randomize_norms(model, torch.Generator().manual_seed(15))
    export(model, (3, 32, 32), 'vit_cls.onnx', 13, preserve_bn=False)
    export(model, (3, 32, 32), 'vit_cls17.onnx', 17, preserve_bn=False)
