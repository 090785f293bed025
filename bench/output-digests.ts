/**
 * Print every current stage instance's output digests, one line each, sorted (not a benchmark: a
 * check that a refactor changed no result). Reads the artifacts cache's index (the latest run of
 * every stage instance); diff the output of two trees' caches after `repro` of the same params:
 *   npx tsx bench/output-digests.ts [artifacts dir] > digests.txt
 */
import { readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';

interface RunRecordLike {
  stage: string;
  axes: Record<string, unknown>;
  outputs: Record<string, { digest: string }>;
}

const root = process.argv[2] ?? 'artifacts';
const lines: string[] = [];
for (const slot of readdirSync(join(root, 'index'))) {
  const key = readFileSync(join(root, 'index', slot), 'utf8').trim();
  const run = JSON.parse(readFileSync(join(root, 'runs', `${key}.json`), 'utf8')) as RunRecordLike;
  const axes = Object.entries(run.axes)
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([k, v]) => `${k}=${JSON.stringify(v)}`)
    .join(',');
  for (const [name, out] of Object.entries(run.outputs).sort(([a], [b]) => a.localeCompare(b))) lines.push(`${run.stage} ${axes} ${name} ${out.digest}`);
}
console.log(lines.sort().join('\n'));
