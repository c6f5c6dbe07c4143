/** Smooth colour blobs (more like images than white noise), labels by index: calibration / QAT data for imported models. */
import type { ImageDataset } from '../../src/data/dataset.ts';
import { mulberry32 } from './random.ts';

export function colourBlobs(n: number, seed: number, [C, H, W]: number[], classes: number): ImageDataset {
  const r = mulberry32(seed);
  const px = new Uint8Array(n * C * H * W);
  for (let i = 0; i < n; i++) {
    const cx = r() * W, cy = r() * H, rad = 2 + r() * 6;
    for (let c = 0; c < C; c++) {
      const amp = 60 + r() * 195;
      for (let y = 0; y < H; y++) for (let x = 0; x < W; x++) {
        const d = Math.hypot(x - cx, y - cy);
        px[((i * C + c) * H + y) * W + x] = Math.min(255, Math.round(amp * Math.exp(-(d * d) / (rad * rad)) + r() * 40));
      }
    }
  }
  return { name: 'blobs', count: n, channels: C, height: H, width: W, numClasses: classes, classNames: [], images: px, labels: Uint8Array.from({ length: n }, (_, i) => i % classes) };
}
