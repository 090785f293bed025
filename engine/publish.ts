/**
 * Publishing: copy a `files` output into the project tree (StageDef.publish), e.g. reports/.
 * Only files whose content differs are rewritten (checked through the stat memo, so an
 * unchanged tree is not re-read), each atomically. Files the output does not list are left alone.
 */
import { mkdirSync, readFileSync } from 'node:fs';
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
    const manifest = await session.store.readManifest(o.digest);
    for (const [rel, f] of Object.entries(manifest.files)) {
      const target = join(session.project.root, dir, rel);
      const st = statOrUndefined(target);
      if (st && st.isFile() && st.size === f.size) {
        const digest = session.memo.lookup(target, 'published', () => hashBytes(readFileSync(target)));
        if (digest === f.digest) continue;
      }
      mkdirSync(dirname(target), { recursive: true });
      await writeFileAtomic(target, await session.store.readBytes(f.digest), { durable: session.store.durable });
      written++;
    }
  }
  return written;
}
