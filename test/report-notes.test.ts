import { test } from 'node:test';
import assert from 'node:assert/strict';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { notesSection } from '../science/report/build.ts';
import { ParamFileError, readParamFile } from '../engine/provenance.ts';

test('notes: headings nest under "About this run", fenced code untouched', () => {
  const md = notesSection({ path: 'docs/runs/x.md', markdown: '# Timings\n\ntext\n\n```sh\n# a shell comment\n```\n## Why\n' });
  const lines = md.split('\n');
  assert.equal(lines[0], '## About this run');
  assert.ok(lines.includes('### Timings'));
  assert.ok(lines.includes('#### Why'));
  assert.ok(lines.includes('# a shell comment'), 'a comment inside a code fence stays as written');
  assert.match(md, /docs\/runs\/x\.md/);
});

test('readParamFile (report.notes): null → no notes; a missing file names the key and the path', async () => {
  const readNotes = (path: string | null, root: string) => readParamFile('report.notes', 'notes file', path, root);
  const dir = mkdtempSync(join(tmpdir(), 'notes-'));
  assert.equal(await readNotes(null, dir), null);
  writeFileSync(join(dir, 'n.md'), 'hello\n');
  assert.deepEqual(await readNotes('n.md', dir), { path: 'n.md', text: 'hello\n' });
  await assert.rejects(readNotes('docs/none.md', dir), (err: unknown) => {
    assert.ok(err instanceof ParamFileError);
    assert.match(
      (err as Error).message,
      /^report\.notes: the notes file 'docs\/none\.md' \(.*docs\/none\.md\) does not exist; write it, or set report\.notes: null in the params file$/,
    );
    return true;
  });
});
