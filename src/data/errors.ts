/**
 * A data file that cannot be used: malformed, truncated, inconsistent with its companion files, or
 * missing from a set. `file` names the file (path or dropped-file name), `reason` says what is wrong;
 * the message is `${file}: ${reason}`.
 */
export class DataFormatError extends Error {
  override name = 'DataFormatError';
  readonly file: string;
  readonly reason: string;

  constructor(file: string, reason: string, options?: { cause?: unknown }) {
    super(`${file}: ${reason}`, options);
    this.file = file;
    this.reason = reason;
  }
}
