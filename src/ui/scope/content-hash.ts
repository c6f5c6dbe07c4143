/**
 * A short content fingerprint (two FNV-1a 32-bit lanes) for telling models and data sets apart. Not a
 * security hash: it only has to make "the same file again" and "another file of the same name" differ.
 * Large buffers are sampled at an even stride (at most `budget` bytes), plus their length, so fingerprinting a
 * 150 MB data set stays well under a frame's worth of work per megabyte sampled.
 */
export class Fingerprint {
  private a = 0x811c9dc5;
  private b = 0x01000193 ^ 0x5bd1e995;

  bytes(x: ArrayLike<number>, budget = Infinity): this {
    const n = x.length;
    const step = n > budget ? Math.ceil(n / budget) : 1;
    let a = this.a, b = this.b;
    for (let i = 0; i < n; i += step) {
      const v = x[i] & 0xff;
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 15);
    }
    this.a = a;
    this.b = b;
    return this.text(`#${n}`);
  }

  text(s: string): this {
    let a = this.a, b = this.b;
    for (let i = 0; i < s.length; i++) {
      const v = s.charCodeAt(i);
      a = Math.imul(a ^ v, 0x01000193);
      b = Math.imul(b ^ v, 0x5bd1e995) ^ (b >>> 15);
    }
    this.a = a;
    this.b = b;
    return this;
  }

  hex(): string {
    return (this.a >>> 0).toString(16).padStart(8, '0') + (this.b >>> 0).toString(16).padStart(8, '0');
  }
}
