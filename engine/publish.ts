/**
 * Publishing: copy a `files` output into the project tree (StageDef.publish), e.g. reports/.
 * Only files whose content differs are rewritten (checked through the stat memo, so an
 * unchanged tree is not re-read), each atomically. A file this stage published before but whose
 * newer output no longer lists it is removed (so a dropped figure does not linger in reports/);
 * files the engine never published there are left alone.
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

/** Publish a record's outputs as its stage declares; returns the number of files written. */
export async function publishOutputs(session: Session, def: StageDef, rec: RunRecord): Promise<number> {
  let written = 0;
  for (const [output, dir] of Object.entries(def.publish ?? {})) {
    const o = rec.outputs[output];
    if (!o) continue;
    if (o.kind !== 'files') throw new UserError(`stage '${def.name}' publishes output '${output}', but it is '${o.kind}', not a FileTree`);
    const manifest = await session.store.readManifest(o.digest, o.size);
    // What this stage output published last time (kept in the store's state, not in the tree).
    const ledger = join(session.store.stateDir, `published-${def.name}-${output}.json`);
    const before: string[] = existsSync(ledger) ? JSON.parse(readFileSync(ledger, 'utf8')) : [];
    for (const rel of before) {
      if (rel in manifest.files) continue;
      rmSync(join(session.project.root, dir, rel), { force: true });
      written++;
    }
    for (const [rel, f] of Object.entries(manifest.files)) {
      const target = join(session.project.root, dir, rel);
      const st = statOrUndefined(target);
      if (st && st.isFile() && st.size === f.size) {
        const digest = session.memo.lookup(target, 'published', () => hashBytes(readFileSync(target)));
        if (digest === f.digest) continue;
      }
      mkdirSync(dirname(target), { recursive: true });
      await writeFileAtomic(target, await session.store.readBytes(f.digest, f.size), { durable: session.store.durable });
      written++;
    }
    const listed = JSON.stringify(Object.keys(manifest.files).sort());
    if (listed !== JSON.stringify([...before].sort())) await writeFileAtomic(ledger, listed, { durable: session.store.durable });
  }
  return written;
}
