/**
 * The official download locations, read at run time from official-urls.json.
 *
 * They are deliberately not imported as code: a stage's key covers its import closure, and
 * where a file comes from must not enter the key (every file is verified against the content
 * digests of registry.ts, which do).
 */
import { readFileSync } from 'node:fs';
import { DatasetError } from './errors.ts';

const URLS_FILE = new URL('./official-urls.json', import.meta.url);

/** The URLs to try, in order, for one official file of a downloaded dataset. */
export function officialUrls(dataset: string, fileName: string): string[] {
  let table: Record<string, unknown>;
  try {
    table = JSON.parse(readFileSync(URLS_FILE, 'utf8'));
  } catch (e) {
    throw new DatasetError(`cannot read the dataset URL list ${URLS_FILE.pathname}: ${(e as Error).message}`);
  }
  const bases = table[dataset];
  if (!Array.isArray(bases) || !bases.every((b) => typeof b === 'string'))
    throw new DatasetError(`${URLS_FILE.pathname}: key '${dataset}' must be a list of base URLs`);
  return bases.map((base: string) => new URL(fileName, base.endsWith('/') ? base : base + '/').href);
}
