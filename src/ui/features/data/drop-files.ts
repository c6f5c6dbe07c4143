/**
 * Files from a drop or a file / folder picker, with their paths (folders walked recursively through
 * the File System Entry API), as the decode worker takes them.
 */
import type { DroppedFile } from '../../../data/decode-protocol.ts';

function readAll(reader: FileSystemDirectoryReader): Promise<FileSystemEntry[]> {
  return new Promise((resolve, reject) => {
    const out: FileSystemEntry[] = [];
    const next = () => reader.readEntries((batch) => {
      if (batch.length === 0) resolve(out);
      else {
        out.push(...batch);
        next();
      }
    }, reject);
    next();
  });
}

async function walk(entry: FileSystemEntry, path: string, out: DroppedFile[]): Promise<void> {
  if (entry.isFile) {
    const file = await new Promise<File>((resolve, reject) => (entry as FileSystemFileEntry).file(resolve, reject));
    out.push({ path: path + entry.name, blob: file });
  } else if (entry.isDirectory) {
    for (const e of await readAll((entry as FileSystemDirectoryEntry).createReader())) await walk(e, `${path}${entry.name}/`, out);
  }
}

/** Files of a drop; `source` names what was dropped (the folder or file name). */
export async function filesFromDrop(dt: DataTransfer): Promise<{ files: DroppedFile[]; source: string }> {
  const entries = [...dt.items].map((i) => i.webkitGetAsEntry?.()).filter((e): e is FileSystemEntry => !!e);
  const out: DroppedFile[] = [];
  if (entries.length) for (const e of entries) await walk(e, '', out);
  else for (const f of [...dt.files]) out.push({ path: f.name, blob: f });
  return { files: out, source: entries.length === 1 ? entries[0].name : entries.map((e) => e.name).join(', ') || 'the dropped files' };
}

/** Files of an <input type=file> (with webkitdirectory: their relative paths). */
export function filesFromInput(list: FileList, folderName?: string): { files: DroppedFile[]; source: string } {
  const files = [...list].map((f) => ({ path: f.webkitRelativePath || f.name, blob: f as Blob }));
  const top = files[0]?.path.includes('/') ? files[0].path.split('/')[0] : null;
  return { files, source: folderName ?? top ?? (files.length === 1 ? files[0].path : `${files.length} files`) };
}
