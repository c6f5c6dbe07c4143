/**
 * Pixel transforms applied to whole data sets (pure, no DOM): bilinear resize to a fixed size, and
 * RGB -> YUV444 full swing (BT.601, JPEG/JFIF coefficients) stored as uint8 with U and V offset by 128.
 * "Centered" YUV for BPU-pyramid-style inputs is then a normalization: x = (p - 128) / 128, i.e.
 * mean = std = 128/255 on the [0, 1] scale (CENTERED_YUV_NORMALIZATION), with a QuantStub scale of 1/128.
 */
import { imageSize, type ImageDataset } from './dataset.ts';

export const CENTERED_YUV_NORMALIZATION = Object.freeze({ mean: [128 / 255], std: [128 / 255] });

/** Bilinear resize of one plane (align_corners = false, like torchvision / OpenCV INTER_LINEAR). */
export function resizePlane(src: ArrayLike<number>, sh: number, sw: number, dst: Uint8Array, dh: number, dw: number, dOff = 0): void {
  const sy = sh / dh, sx = sw / dw;
  for (let y = 0; y < dh; y++) {
    const fy = Math.min(sh - 1, Math.max(0, (y + 0.5) * sy - 0.5));
    const y0 = Math.floor(fy), y1 = Math.min(sh - 1, y0 + 1), wy = fy - y0;
    for (let x = 0; x < dw; x++) {
      const fx = Math.min(sw - 1, Math.max(0, (x + 0.5) * sx - 0.5));
      const x0 = Math.floor(fx), x1 = Math.min(sw - 1, x0 + 1), wx = fx - x0;
      const top = src[y0 * sw + x0] * (1 - wx) + src[y0 * sw + x1] * wx;
      const bot = src[y1 * sw + x0] * (1 - wx) + src[y1 * sw + x1] * wx;
      dst[dOff + y * dw + x] = Math.round(top * (1 - wy) + bot * wy);
    }
  }
}

/** A copy of `ds` resized to h x w (the same object when it already has that size). */
export function resizeDataset(ds: ImageDataset, h: number, w: number): ImageDataset {
  if (ds.height === h && ds.width === w) return ds;
  const plane = ds.height * ds.width;
  const images = new Uint8Array(ds.count * ds.channels * h * w);
  for (let p = 0; p < ds.count * ds.channels; p++) {
    resizePlane(ds.images.subarray(p * plane, (p + 1) * plane), ds.height, ds.width, images, h, w, p * h * w);
  }
  return { ...ds, images, height: h, width: w };
}

const clamp8 = (v: number) => (v < 0 ? 0 : v > 255 ? 255 : Math.round(v));

/** RGB (3 planes) -> Y, U + 128, V + 128 (full swing, BT.601). Grey images are expanded to RGB first. */
export function rgbToYuv444(ds: ImageDataset): ImageDataset {
  const plane = ds.height * ds.width;
  const src = ds.channels === 3 ? ds : toRgb(ds);
  const images = new Uint8Array(ds.count * 3 * plane);
  for (let i = 0; i < ds.count; i++) {
    const o = i * 3 * plane;
    for (let k = 0; k < plane; k++) {
      const r = src.images[o + k], g = src.images[o + plane + k], b = src.images[o + 2 * plane + k];
      images[o + k] = clamp8(0.299 * r + 0.587 * g + 0.114 * b);
      images[o + plane + k] = clamp8(-0.168736 * r - 0.331264 * g + 0.5 * b + 128);
      images[o + 2 * plane + k] = clamp8(0.5 * r - 0.418688 * g - 0.081312 * b + 128);
    }
  }
  return { ...ds, images, channels: 3 };
}

/** Grey (1 channel) -> RGB by repeating the plane. */
export function toRgb(ds: ImageDataset): ImageDataset {
  if (ds.channels === 3) return ds;
  if (ds.channels !== 1) throw new Error(`toRgb: ${ds.channels} channels`);
  const size = imageSize(ds);
  const images = new Uint8Array(ds.count * 3 * size);
  for (let i = 0; i < ds.count; i++) {
    const img = ds.images.subarray(i * size, (i + 1) * size);
    for (let c = 0; c < 3; c++) images.set(img, (i * 3 + c) * size);
  }
  return { ...ds, images, channels: 3 };
}

/** Per-channel mean and std of the pixels on the [0, 1] scale (for the Normalize suggestion). */
export function channelStats(ds: ImageDataset, maxImages = 2000): { mean: number[]; std: number[] } {
  const plane = ds.height * ds.width;
  const n = Math.min(ds.count, maxImages);
  const mean: number[] = [], std: number[] = [];
  for (let c = 0; c < ds.channels; c++) {
    let s = 0, s2 = 0;
    for (let i = 0; i < n; i++) {
      const o = (i * ds.channels + c) * plane;
      for (let k = 0; k < plane; k++) {
        const v = ds.images[o + k] / 255;
        s += v;
        s2 += v * v;
      }
    }
    const m = s / Math.max(1, n * plane);
    mean.push(m);
    std.push(Math.sqrt(Math.max(0, s2 / Math.max(1, n * plane) - m * m)));
  }
  return { mean, std };
}
