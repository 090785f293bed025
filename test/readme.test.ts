/**
 * The README tells the truth about the command line and the tree: every `npx tsx pipeline.ts …`
 * command it shows parses (the verb and each option exist, options get their values, stage
 * arguments are stages, `-S` keys exist in the params file it names), every file and folder it
 * names exists, every link and section reference resolves — including the sections that error
 * messages in the code send readers to (`see README "…"`).
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync, statSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Command } from 'commander';
import { buildProgram } from '../engine/cli.ts';
import { loadParams } from '../engine/params.ts';
import type { PipelineProject } from '../engine/project.ts';
import { stages } from '../stages/index.ts';
import { paramsSchema } from '../stages/params/index.ts';
import { commands } from '../cli/index.ts';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..');
const README = readFileSync(join(ROOT, 'README.md'), 'utf8');
const project: PipelineProject = { name: 'pipeline.ts', root: ROOT, paramsFile: 'params.yaml', paramsSchema, stages, commands };
const STAGE_ARGS = new Set(['repro', 'status', 'timings']);

/** Split a shell line into words (single and double quotes; a `#` starting a word ends the line). */
export function shellWords(line: string): string[] {
  const words: string[] = [];
  let word: string | null = null;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === "'" || c === '"') {
      const end = line.indexOf(c, i + 1);
      word = (word ?? '') + line.slice(i + 1, end);
      i = end;
    } else if (c === ' ' || c === '\t') {
      if (word !== null) words.push(word);
      word = null;
    } else if (c === '#' && word === null) break;
    else word = (word ?? '') + (c === '\\' ? line[++i] : c);
  }
  if (word !== null) words.push(word);
  return words;
}

/** Every `npx tsx pipeline.ts …` command in code blocks and inline code, as words after `pipeline.ts`. */
function readmeCommands(): { line: string; words: string[] }[] {
  const out: { line: string; words: string[] }[] = [];
  const blocks = [...README.matchAll(/```(?:sh|bash)\n([\s\S]*?)```/g)].flatMap((m) => m[1].split('\n'));
  const inline = [...README.matchAll(/`(npx tsx pipeline\.ts [^`]*)`/g)].map((m) => m[1]);
  for (const line of [...blocks, ...inline]) {
    const words = shellWords(line.trim());
    const at = words.indexOf('pipeline.ts');
    if (words[0] === 'npx' && at >= 0) out.push({ line: line.trim(), words: words.slice(at + 1) });
  }
  return out;
}

/** Check one command against the program: returns the problems found. */
function checkCommand(program: Command, words: string[]): string[] {
  const [verb, ...rest] = words;
  const cmd = program.commands.find((c) => c.name() === verb);
  if (!cmd) return [`unknown verb '${verb}'`];
  const problems: string[] = [];
  const args: string[] = [];
  let paramsFile = 'params.yaml';
  const sets: string[] = [];
  for (let i = 0; i < rest.length; i++) {
    const w = rest[i];
    if (!w.startsWith('-') || w === '-') {
      args.push(w);
      continue;
    }
    const [flag, inlineValue] = w.includes('=') && w.startsWith('--') ? [w.slice(0, w.indexOf('=')), w.slice(w.indexOf('=') + 1)] : [w, undefined];
    if (flag === '--help' || flag === '-h') continue;
    const opt = cmd.options.find((o) => o.long === flag || o.short === flag);
    if (!opt) {
      problems.push(`${verb}: unknown option ${flag}`);
      continue;
    }
    let value = inlineValue;
    if (value === undefined && (opt.required || (opt.optional && rest[i + 1] && !rest[i + 1].startsWith('-')))) value = rest[++i];
    if (opt.required && value === undefined) problems.push(`${verb}: ${flag} needs a value`);
    if (flag === '--params') paramsFile = value!;
    if (flag === '-S' || flag === '--set') sets.push(value!);
  }
  if (STAGE_ARGS.has(verb)) for (const a of args) if (!stages.some((s) => s.name === a)) problems.push(`${verb}: '${a}' is not a stage`);
  // Placeholders (`--params FILE`) stand for the reader's own file.
  if (cmd.options.some((o) => o.long === '--params') && !/^[A-Z_]+$/.test(paramsFile)) {
    try {
      loadParams({ root: ROOT, file: paramsFile, overrides: sets, schema: paramsSchema });
    } catch (e) {
      problems.push(`${verb}: params: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  return problems;
}

test('every pipeline.ts command in the README parses: verbs, options and their values, stage names, -S keys', () => {
  const program = buildProgram(project);
  const found = readmeCommands();
  assert.ok(found.length >= 15, `found only ${found.length} commands`);
  const problems = found.flatMap(({ line, words }) => checkCommand(program, words).map((p) => `${p}   (in: ${line})`));
  assert.deepEqual(problems, []);
  // The first code block is what a newcomer runs, in order: install, test, the quick profile with the mirror.
  const first = README.match(/```sh\n([\s\S]*?)```/)![1]
    .split('\n')
    .filter(Boolean)
    .map((l) => shellWords(l).join(' '));
  assert.deepEqual(first, ['npm ci', 'npm test', 'npx tsx pipeline.ts repro --params params.quick.yaml --mirror ../shared/datasets']);
});

test('the checker itself catches an unknown verb, option, stage or params key', () => {
  const program = buildProgram(project);
  assert.deepEqual(checkCommand(program, ['reproduce']), ["unknown verb 'reproduce'"]);
  assert.deepEqual(checkCommand(program, ['status', '--fast']), ['status: unknown option --fast']);
  assert.deepEqual(checkCommand(program, ['repro', 'clusters']), ["repro: 'clusters' is not a stage"]);
  assert.match(checkCommand(program, ['repro', '-S', 'cluster.method=kmeans'])[0], /unknown key 'method'/);
  assert.match(checkCommand(program, ['repro', '--params', 'params.smoke.yaml'])[0], /params file not found/);
  assert.deepEqual(shellWords(`repro -S 'cluster={k: [4]}' # a comment`), ['repro', '-S', 'cluster={k: [4]}']);
});

/** GitHub's anchor of a heading. */
const slug = (heading: string) =>
  heading
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{N}\s_-]/gu, '')
    .replace(/\s/g, '-');

test('every file, folder, link and section the README names exists', () => {
  const headings = [...README.matchAll(/^#{1,6} (.+)$/gm)].map((m) => m[1]);
  const anchors = new Set(headings.map(slug));
  const missing: string[] = [];
  for (const [, target] of README.matchAll(/\]\(([^)\s]+)\)/g)) {
    if (/^https?:/.test(target)) continue;
    const [path, anchor] = target.split('#');
    if (path === '' && anchor && !anchors.has(anchor)) missing.push(`link #${anchor}`);
    if (path && !existsSync(join(ROOT, path))) missing.push(`link ${path}`);
  }
  const topLevel = new Set(readdirSync(ROOT));
  // A params file's report folder exists once it has run; naming it is fine.
  const reportDirs = readdirSync(ROOT)
    .filter((f) => /^params[\w.-]*\.yaml$/.test(f))
    .map((f) => /^\s+dir: (\S+)/m.exec(readFileSync(join(ROOT, f), 'utf8'))?.[1])
    .filter((d): d is string => !!d);
  for (const [, code] of README.matchAll(/`([^`\s]+)`/g)) {
    if (/[<>*{}|…]|^\.\.\//.test(code) || code.startsWith('artifacts/')) continue;
    const first = code.split('/')[0];
    const looksLikePath = (code.includes('/') && topLevel.has(first)) || /^params[\w.-]*\.yaml$/.test(code);
    if (looksLikePath && !existsSync(join(ROOT, code)) && !reportDirs.includes(code.replace(/\/$/, ''))) missing.push(code);
  }
  // Sections that messages in the code send people to: `see README "Weights file"`.
  for (const dir of ['engine', 'science', 'stages', 'cli']) {
    for (const file of walk(join(ROOT, dir))) {
      for (const [, section] of readFileSync(file, 'utf8').matchAll(/README "([^"]+)"/g))
        if (!headings.includes(section)) missing.push(`section "${section}" (named in ${file.slice(ROOT.length + 1)})`);
    }
  }
  assert.deepEqual(missing, []);
  assert.equal(headings.filter((h) => /measured performance/i.test(h)).length, 1, 'one "Measured performance" section');
});

function walk(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const p = join(dir, name);
    return statSync(p).isDirectory() ? walk(p) : p.endsWith('.ts') ? [p] : [];
  });
}
