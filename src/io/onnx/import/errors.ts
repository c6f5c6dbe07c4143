/** The import's one error type: the file, and where known the node and op, and why. */
export class OnnxImportError extends Error {
  constructor(readonly file: string, readonly reason: string, readonly node?: string, readonly op?: string) {
    super(`${file}: ${node !== undefined || op !== undefined ? `node "${node ?? '?'}" (${op ?? '?'}): ` : ''}${reason}`);
    this.name = 'OnnxImportError';
  }
}
