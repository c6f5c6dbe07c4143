/** How both benches name an adapter (Node and browser alike). */

/** Same format as describeAdapter() in src/engine/webgpu/device.ts, from a device's adapterInfo. */
export function describeAdapterInfo(i: GPUAdapterInfo | undefined): string {
  if (!i) return 'unknown adapter';
  const name = [i.vendor, i.architecture, i.device].filter((s) => s && s.length > 0).join(' ') || 'unknown adapter';
  const desc = i.description && i.description !== name ? ` (${i.description})` : '';
  return `${name}${desc}`;
}
