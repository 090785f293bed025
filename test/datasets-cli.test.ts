/**
 * The `datasets` view and `repro --mirror`, through the engine's CLI on a throwaway project
 * (temp root with its own params.yaml and artifacts/; the stage module is the real one).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';
import { buildProgram } from '../engine/cli.ts';
import type { PipelineProject } from '../engine/project.ts';
import { datasetsCommands, type DatasetView } from '../cli/datasets.ts';
import { datasetsStage } from '../stages/datasets.ts';
import { datasetsParams } from '../stages/params/datasets.ts';

const MIRROR = resolve(fileURLToPath(new URL('.', import.meta.url)), '../../shared/datasets');
const haveMirror = existsSync(join(MIRROR, 'mnist'));

async function cli(project: PipelineProject, argv: string[]): Promise<string> {
  const lines: string[] = [];
  const log = console.log;
  console.log = (...a: unknown[]) => void lines.push(a.join(' '));
  try {
    await buildProgram(project).parseAsync(argv, { from: 'user' });
  } finally {
    console.log = log;
  }
  return lines.join('\n');
}

test('datasets view: origins, params membership; repro --mirror builds them; the view then shows them cached with digests', async () => {
  const root = mkdtempSync(join(tmpdir(), 'nnmod-cli-'));
  const savedMirror = process.env.NNMOD_MIRROR;
  delete process.env.NNMOD_MIRROR;
  try {
    const names = haveMirror ? ['memorization', 'mnist'] : ['memorization'];
    writeFileSync(join(root, 'params.yaml'), `datasets:\n  names: [${names.join(', ')}]\n  seed: 42\n`);
    const project: PipelineProject = {
      name: 'test-pipeline',
      root,
      paramsFile: 'params.yaml',
      paramsSchema: z.object({ datasets: datasetsParams }).strict(),
      stages: [datasetsStage],
      commands: [datasetsCommands],
    };
    const view = (json: string) => new Map((JSON.parse(json) as DatasetView[]).map((v) => [v.name, v]));

    const before = view(await cli(project, ['datasets', '--json', ...(haveMirror ? ['--mirror', MIRROR] : [])]));
    assert.equal(before.size, 12, 'every known dataset is listed');
    assert.equal(before.get('memorization')!.cached, 'never built');
    assert.equal(before.get('memorization')!.origin, 'generated (seed 42)');
    assert.equal(before.get('fashion')!.inParams, false);
    assert.equal(before.get('fashion')!.cached, 'not in params');
    assert.match(before.get('cifar10')!.files[0].location, /^https:\/\//);
    assert.equal(before.get('cifar10')!.files[0].where, 'remote');
    assert.equal(Object.keys(before.get('cifar10')!.files[0].contentSha256).length, 6);
    assert.equal(before.get('line-mnist')!.nTrain, 120000);
    if (haveMirror) {
      assert.equal(before.get('mnist')!.origin, `mirror ${join(MIRROR, 'mnist')}`);
      assert.ok(before.get('mnist')!.files.every((f) => f.where === 'mirror'));
    }

    await cli(project, ['repro', '-j', '1', ...(haveMirror ? ['--mirror', MIRROR] : [])]);
    if (haveMirror) assert.equal(process.env.NNMOD_MIRROR, MIRROR, 'repro --mirror sets NNMOD_MIRROR');
    const after = view(await cli(project, ['datasets', '--json']));
    for (const n of names) {
      const v = after.get(n)!;
      assert.equal(v.cached, 'up to date', n);
      assert.match(v.table!.digest, /^[0-9a-f]{16,}$/);
      assert.ok(v.table!.size > 1e6);
    }
    assert.equal(after.get('memorization')!.nTrain, 3000);

    // a seed change makes generated datasets stale but leaves MNIST cached
    const changed = view(await cli(project, ['datasets', '--json', '-S', 'datasets.seed=7']));
    assert.equal(changed.get('memorization')!.cached, 'stale');
    if (haveMirror) assert.equal(changed.get('mnist')!.cached, 'up to date');

    const text = await cli(project, ['datasets']);
    assert.match(text, /^DATASET\s+PARAMS\s+CACHED/);
    assert.match(text, /memorization\s+yes\s+up to date\s+3000\s+10000/);
    assert.match(text, /cifar10\/cifar-10-binary\.tar\.gz {2}not here; download from https:/);
  } finally {
    if (savedMirror === undefined) delete process.env.NNMOD_MIRROR;
    else process.env.NNMOD_MIRROR = savedMirror;
    rmSync(root, { recursive: true, force: true });
  }
});

test('--mirror with a missing directory is a clear error', async () => {
  const { checkMirror } = await import('../cli/datasets.ts');
  assert.throws(
    () => checkMirror('/no/such/mirror'),
    /--mirror \/no\/such\/mirror: no such directory \(expected a folder laid out <dataset>\/<official file name>/,
  );
});
