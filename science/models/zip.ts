/** Zip archives (PyTorch, .npz, .keras) via fflate; a damaged archive becomes a ModelFormatError. */
import { unzipSync } from 'fflate';
import { ModelFormatError } from './tensor.ts';

/** Entries in archive order (fflate keeps the central directory order). */
export function readZip(bytes: Uint8Array, source: string): Map<string, Uint8Array> {
  try {
    return new Map(Object.entries(unzipSync(bytes)));
  } catch (e) {
    throw new ModelFormatError(`${source}: damaged zip archive (${(e as Error).message}); the file is truncated or corrupt`);
  }
}
