/**
 * Why is an instance stale? Compare the key parts computed now with those of the latest run
 * record of the same instance (same stage, axes and role) and name each difference: which
 * param changed from what to what, which code file or package, which input, which runtime fact.
 */
import { canonicalJson } from './hash.ts';
import { instanceId } from './graph.ts';
import type { CodeFingerprint } from './fingerprint.ts';
import type { KeyParts } from './keys.ts';
import type { RunRecord } from './store.ts';

const MAX_PER_KIND = 6;

export function explainChange(now: KeyParts, code: CodeFingerprint, prev: RunRecord): string[] {
  const reasons: string[] = [];
  const before = prev.keyParts;
  if (before.format !== now.format) reasons.push(`engine key format ${before.format} → ${now.format}`);

  const params: string[] = [];
  diffJson(before.params, now.params, '', params);
  reasons.push(...cap(params.map((p) => `param ${p}`)));

  if (before.code !== now.code) {
    const files: string[] = [];
    const old = prev.code?.files ?? {};
    for (const [f, d] of Object.entries(code.files)) {
      if (!(f in old)) files.push(`code ${f} is newly imported`);
      else if (old[f] !== d) files.push(`code ${f} changed`);
    }
    for (const f of Object.keys(old)) if (!(f in code.files)) files.push(`code ${f} is no longer imported`);
    const oldPk = prev.code?.packages ?? {};
    for (const [p, v] of Object.entries(code.packages)) {
      if (oldPk[p] !== v) files.push(oldPk[p] ? `package ${p} ${oldPk[p]} → ${v}` : `package ${p}@${v} is newly imported`);
    }
    for (const p of Object.keys(oldPk)) if (!(p in code.packages)) files.push(`package ${p} is no longer imported`);
    reasons.push(...cap(files.length ? files : ['code changed']));
  }

  const inputs: string[] = [];
  const prevInputs = new Map(before.inputs.map((i) => [i.stage + canonicalJson(i.axes), i]));
  const nowIds = new Set<string>();
  for (const i of now.inputs) {
    const id = i.stage + canonicalJson(i.axes);
    nowIds.add(id);
    const p = prevInputs.get(id);
    const name = instanceId(i.stage, i.axes);
    if (!p) {
      inputs.push(`input ${name} is new`);
      continue;
    }
    for (const [o, d] of Object.entries(i.outputs)) {
      if (p.outputs[o] === undefined) inputs.push(`input ${name} output '${o}' is newly consumed`);
      else if (p.outputs[o] !== d) inputs.push(`input ${name} output '${o}' changed`);
    }
  }
  for (const [id, p] of prevInputs) if (!nowIds.has(id)) inputs.push(`input ${instanceId(p.stage, p.axes)} is no longer consumed`);
  reasons.push(...cap(inputs));

  const rt: string[] = [];
  const keys = new Set([...Object.keys(before.runtime ?? {}), ...Object.keys(now.runtime)]);
  for (const k of keys) {
    const a = before.runtime?.[k];
    const b = now.runtime[k];
    if (a !== b) rt.push(`runtime ${k}: ${a ?? '(none)'} → ${b ?? '(none)'}`);
  }
  reasons.push(...rt);
  return reasons;
}

function cap(list: string[]): string[] {
  return list.length <= MAX_PER_KIND ? list : [...list.slice(0, MAX_PER_KIND - 1), `… and ${list.length - MAX_PER_KIND + 1} more`];
}

function show(v: unknown): string {
  return v === undefined ? '(absent)' : canonicalJson(v);
}

function diffJson(a: unknown, b: unknown, path: string, out: string[]): void {
  const isObj = (x: unknown) => typeof x === 'object' && x !== null && !Array.isArray(x);
  if (isObj(a) && isObj(b)) {
    const ao = a as Record<string, unknown>;
    const bo = b as Record<string, unknown>;
    for (const k of [...new Set([...Object.keys(ao), ...Object.keys(bo)])].sort()) diffJson(ao[k], bo[k], path ? `${path}.${k}` : k, out);
    return;
  }
  if (canonicalJson(a ?? null) !== canonicalJson(b ?? null) || (a === undefined) !== (b === undefined)) out.push(`${path || '(all)'}: ${show(a)} → ${show(b)}`);
}
