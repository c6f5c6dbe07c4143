/**
 * The size limits on data files, in one place (docs/limits.md lists them for users). Every claimed size
 * (an IDX header's dimensions, a zip's entry sizes, an image header's width and height) is checked
 * against these and against the file itself before anything of that size is allocated or decoded, so
 * a hostile file is refused for the cost of reading its header.
 */

const MiB = 1024 * 1024;

export const LIMITS = Object.freeze({
  /** Largest single file read (a dropped file, a file of a folder): checked from its size before reading. */
  fileBytes: 1024 * MiB,
  /** Largest width or height of one PNG/JPEG image (pixels). */
  imageSide: 4096,
  /** Most pixels in one PNG/JPEG image (width x height): 16 Mpx, 64 MiB decoded as RGBA. */
  imagePixels: 4096 * 4096,
  /** Most bytes of all decoded images of a drop together (RGBA, before resizing). */
  decodedImagesBytes: 1024 * MiB,
  /** Most pixel bytes of one data set (count x channels x height x width, uint8). */
  datasetBytes: 1024 * MiB,
  /** Most bytes one zip entry may inflate to. */
  zipEntryBytes: 64 * MiB,
  /** Most bytes all entries of one zip may inflate to together. */
  zipTotalBytes: 1024 * MiB,
  /** Most entries (files and folders) in one zip. */
  zipEntries: 200_000,
  /** Most bytes one IDX file may hold once gunzipped (the header's claim is checked first). */
  idxBytes: 1024 * MiB,
});

export const formatBytes = (n: number): string =>
  n >= 1024 * MiB ? `${+(n / (1024 * MiB)).toFixed(2)} GiB` : n >= MiB ? `${+(n / MiB).toFixed(1)} MiB` : n >= 1024 ? `${+(n / 1024).toFixed(1)} KiB` : `${n} bytes`;
