/**
 * `status`: for every instance, is it up to date, and if not, why. Keys are computed the same
 * way `repro` computes them, walking the graph in dependency order with the recorded outputs
 * of up-to-date upstreams; below a stale instance keys are unknowable (its outputs may change),
 * so downstream instances are reported as waiting on it.
 */
import { explainChange } from './explain.ts';
import type { Instance } from './graph.ts';
import type { Session } from './session.ts';
import { describeDamage, type RunRecord } from './store.ts';
import type { Axes, StageKey } from './types.ts';

export type InstanceState = 'up-to-date' | 'stale' | 'never-run' | 'upstream-stale';

export interface InstanceStatus {
  id: string;
  stage: string;
  axes: Axes;
  state: InstanceState;
  /** Current key (absent when an upstream is not up to date). */
  key?: StageKey;
  /** Why it is not up to date (empty when it is). */
  reasons: string[];
  /** The record that makes it up to date. */
  record?: RunRecord;
  /** Sample stages: shards the current count needs, and how many of them are stored. */
  shards?: { needed: number; stored: number; records: (RunRecord | undefined)[] };
}

export async function computeStatus(session: Session): Promise<InstanceStatus[]> {
  const { store, graph } = session;
  const records = new Map<Instance, RunRecord>();
  const out: InstanceStatus[] = [];
  for (const inst of graph.all) {
    const base = { id: inst.id, stage: inst.def.name, axes: inst.axes };
    const waiting = [...new Set(inst.inputs.filter((b) => !records.has(b.instance)).map((b) => b.instance.id))];
    if (waiting.length) {
      const shown = waiting.slice(0, 3).join(', ') + (waiting.length > 3 ? ` and ${waiting.length - 3} more` : '');
      out.push({ ...base, state: 'upstream-stale', reasons: [`upstream ${shown} not up to date`] });
      continue;
    }
    const parts = await session.baseParts(inst, (u) => records.get(u)!);
    const code = session.code(inst.def);
    if (!inst.def.samples) {
      const key = session.key(parts);
      const { record: rec, damage } = store.checkRun(key);
      if (rec) {
        records.set(inst, rec);
        out.push({ ...base, state: 'up-to-date', key, reasons: [], record: rec });
        continue;
      }
      if (damage) {
        out.push({ ...base, state: 'stale', key, reasons: [describeDamage(damage)] });
        continue;
      }
      const prev = store.latestRun(inst.def.name, inst.axes, 'instance');
      if (prev) out.push({ ...base, state: 'stale', key, reasons: staleReasons(explainChange(parts, code, prev), prev.key === key) });
      else out.push(removedOrNever(base, key, store.latestKey(inst.def.name, inst.axes, 'instance')));
      continue;
    }
    const needed = session.shardCount(inst);
    const shardRecs: (RunRecord | undefined)[] = [];
    const damaged: string[] = [];
    for (let i = 0; i < needed; i++) {
      const { record, damage } = store.checkRun(session.key(session.shardParts(parts, i, inst.def.samples.shardSize)));
      shardRecs.push(record);
      if (damage) damaged.push(`shard ${i}: ${describeDamage(damage)}`);
    }
    const stored = shardRecs.filter(Boolean).length;
    const shards = { needed, stored, records: shardRecs };
    const prev = store.latestRun(inst.def.name, inst.axes, 'combine');
    if (stored === needed) {
      const key = session.key(session.combineParts(inst, parts, shardRecs as RunRecord[]));
      const { record: rec, damage } = store.checkRun(key);
      if (rec) {
        records.set(inst, rec);
        out.push({ ...base, state: 'up-to-date', key, reasons: [], record: rec, shards });
        continue;
      }
      if (damage) damaged.push(describeDamage(damage));
    }
    if (damaged.length) {
      out.push({ ...base, state: 'stale', reasons: damaged, shards });
      continue;
    }
    const nowParts = { ...parts, params: inst.params as any };
    const earlier = prev ? undefined : removedOrNever(base, undefined, store.latestKey(inst.def.name, inst.axes, 'combine'));
    const reasons = prev ? explainChange(nowParts, code, prev) : earlier!.reasons;
    if (stored < needed) reasons.push(`${needed - stored} of ${needed} shards to compute (${inst.count} samples, ${inst.def.samples.shardSize} per shard)`);
    out.push({ ...base, state: prev ? 'stale' : earlier!.state, reasons: prev ? staleReasons(reasons, false) : reasons, shards });
  }
  return out;
}

/** No readable previous record: either it was removed (verify, gc) or the instance never ran. */
function removedOrNever(base: Pick<InstanceStatus, 'id' | 'stage' | 'axes'>, key: StageKey | undefined, latestKey: string | undefined): InstanceStatus {
  return latestKey
    ? { ...base, state: 'stale', key, reasons: ['its previous run record was removed (verify found a missing or corrupt output, or gc)'] }
    : { ...base, state: 'never-run', key, reasons: ['never run'] };
}

function staleReasons(reasons: string[], sameKey: boolean): string[] {
  if (sameKey) return ['its recorded outputs are missing from the store (removed by verify or by hand)'];
  return reasons.length ? reasons : ['key changed (no recorded difference; the previous record predates the current one)'];
}
