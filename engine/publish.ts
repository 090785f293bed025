/**
 * Publishing: copy a `files` output into the project tree (StageDef.publish), e.g. reports/.
 * Only files whose content differs are rewritten (checked through the stat memo, so an
 * unchanged tree is not re-read), each atomically.
 *
 * Each published folder holds a ledger, `<folder>/.published.json`: the params file (and `-S`
 * overrides) that produced it and the files published there. It lives in the tree, so it is
 * committed with the report and a fresh clone knows it too. A file the folder's ledger lists
 * but the newer output no longer has is removed (a dropped figure does not linger); files the
 * engine never published there, and other folders (another params file's report, even one
 * nested inside this folder), are left alone.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { hashBytes } from './hash.ts';
import { writeFileAtomic } from './fsutil.ts';
import { statOrUndefined } from './statmemo.ts';
import { UserError } from './errors.ts';
import type { Session } from './session.ts';
import type { RunRecord } from './store.ts';
import type { StageDef } from './types.ts';

/** Name of the ledger file in each published folder. */
export const PUBLISHED_LEDGER = '.published.json';

export interface PublishedLedger {
  /** The params file (project-relative) whose run published this folder, and its -S overrides. */
  params: string;
  overrides: string[];
  stage: string;
  output: string;
  /** Folder-relative paths, sorted. */
  files: string[];
}

/** The folder an output publishes to, for one instance's resolved params (checked: relative, no '..'). */
export function publishDir(def: StageDef, output: string, params: unknown): string {
  const spec = def.publish?.[output];
  const dir = typeof spec === 'function' ? spec(params) : spec;
  const clean = typeof dir === 'string' ? dir.replace(/\/+$/, '') : dir;
  if (typeof clean !== 'string' || clean === '' || clean === '.' || clean.startsWith('/') || clean.split('/').includes('..')) {
    throw new UserError(
      `stage '${def.name}': publish folder for '${output}' must be a folder relative to the project root, without '..', got ${JSON.stringify(dir)}`,
    );
  }
  return clean;
}

export function readLedger(folder: string): PublishedLedger | undefined {
  const path = join(folder, PUBLISHED_LEDGER);
  if (!existsSync(path)) return undefined;
  try {
    const j = JSON.parse(readFileSync(path, 'utf8')) as PublishedLedger;
    return Array.isArray(j.files) ? j : undefined;
  } catch {
    return undefined;
  }
}

/** Publish a record's outputs as its stage declares; returns the number of files written or removed. */
export async function publishOutputs(session: Session, def: StageDef, rec: RunRecord, params: unknown): Promise<number> {
  let written = 0;
  for (const output of Object.keys(def.publish ?? {})) {
    const o = rec.outputs[output];
    if (!o) continue;
    if (o.kind !== 'files') throw new UserError(`stage '${def.name}' publishes output '${output}', but it is '${o.kind}', not a FileTree`);
    const manifest = await session.store.readManifest(o.digest, o.size);
    const folder = join(session.project.root, publishDir(def, output, params));
    const before = readLedger(folder)?.files ?? [];
    for (const rel of before) {
      if (rel in manifest.files) continue;
      rmSync(join(folder, rel), { force: true });
      written++;
    }
    for (const [rel, f] of Object.entries(manifest.files)) {
      const target = join(folder, rel);
      const st = statOrUndefined(target);
      if (st && st.isFile() && st.size === f.size) {
        const digest = session.memo.lookup(target, 'published', () => hashBytes(readFileSync(target)));
        if (digest === f.digest) continue;
      }
      mkdirSync(dirname(target), { recursive: true });
      await writeFileAtomic(target, await session.store.readBytes(f.digest, f.size), { durable: session.store.durable });
      written++;
    }
    const ledger: PublishedLedger = {
      params: session.paramsName,
      overrides: [...session.overrides],
      stage: def.name,
      output,
      files: Object.keys(manifest.files).sort(),
    };
    const text = JSON.stringify(ledger, null, 2) + '\n';
    const path = join(folder, PUBLISHED_LEDGER);
    if (!existsSync(path) || readFileSync(path, 'utf8') !== text) await writeFileAtomic(path, text, { durable: session.store.durable });
  }
  return written;
}
