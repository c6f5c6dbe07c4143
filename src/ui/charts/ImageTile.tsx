/** One uint8 NCHW image (1 or 3 channels) drawn on a canvas at its own size, with a caption. */
import { useEffect, useRef } from 'react';

export function ImageTile({ pixels, index, shape, label, caption, testId = 'image-tile', data }: {
  pixels: Uint8Array; index: number; shape: number[]; label: string; caption?: string; testId?: string; data?: Record<string, string | number>;
}) {
  const ref = useRef<HTMLCanvasElement>(null);
  const [c, h, w] = shape;
  useEffect(() => {
    const ctx = ref.current?.getContext('2d');
    // A preview that does not hold this tile's pixels (a damaged saved project) draws nothing.
    if (!ctx || !(w > 0 && h > 0) || pixels.length < (index + 1) * c * h * w) return;
    const img = ctx.createImageData(w, h);
    const o = index * c * h * w;
    for (let k = 0; k < h * w; k++) {
      for (let ch = 0; ch < 3; ch++) img.data[4 * k + ch] = pixels[o + (c === 3 ? ch : 0) * h * w + k];
      img.data[4 * k + 3] = 255;
    }
    ctx.putImageData(img, 0, 0);
  }, [pixels, index, c, h, w]);
  const attrs = Object.fromEntries(Object.entries(data ?? {}).map(([k, v]) => [`data-${k}`, v]));
  return (
    <figure className="tile" data-testid={testId} {...attrs}>
      <canvas ref={ref} width={Math.max(1, w)} height={Math.max(1, h)} role="img" aria-label={label} />
      <figcaption title={caption ?? label}>{caption ?? label}</figcaption>
    </figure>
  );
}
