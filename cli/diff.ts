/**
 * `npx tsx pipeline.ts diff [REV_A] [REV_B] [--md | --json] [--alpha A]`
 *
 * Compares two revisions' params.yaml and reports/metrics.json (default: HEAD vs the working
 * tree; one revision: that revision vs the working tree). Git is read through zx; the diff
 * itself is science/report/diff.ts.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../engine/errors.ts';
import type { CommandPlugin, PipelineProject } from '../engine/project.ts';
import { diffReports, formatDiff, type DiffFormat, type RevisionReport } from '../science/report/diff.ts';
import { parseMetrics } from '../science/report/metrics.ts';

export const METRICS_PATH = 'reports/metrics.json';
const WORKING_TREE = 'working tree';

export interface DiffOptions {
  /** Project root (the directory holding params.yaml and reports/). */
  root: string;
  paramsFile: string;
  /** Revisions; undefined = HEAD (A) / the working tree (B). */
  revA?: string;
  revB?: string;
  format: DiffFormat;
  /** Significance level; default: report.alpha of revision B's params, else 0.05. */
  alpha?: number;
}

async function git(root: string, args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  const { $ } = await import('zx');
  const r = await $({ cwd: root, quiet: true, nothrow: true })`git ${args}`;
  return { ok: r.exitCode === 0, stdout: r.stdout, stderr: r.stderr.trim() };
}

/** Read a project-relative file at a revision (undefined when the revision lacks it). */
async function readAt(root: string, rev: string | undefined, path: string): Promise<string | undefined> {
  if (rev === undefined) {
    const abs = join(root, path);
    return existsSync(abs) ? readFileSync(abs, 'utf8') : undefined;
  }
  const r = await git(root, ['show', `${rev}:./${path}`]);
  return r.ok ? r.stdout : undefined;
}

async function checkRevision(root: string, rev: string): Promise<void> {
  const inside = await git(root, ['rev-parse', '--is-inside-work-tree']);
  if (!inside.ok) throw new UserError(`diff: ${root} is not inside a git repository (diff compares committed reports; run \`git init\` and commit reports/)`);
  const r = await git(root, ['rev-parse', '--verify', '--quiet', `${rev}^{commit}`]);
  if (!r.ok) throw new UserError(`diff: '${rev}' is not a commit in this repository (try HEAD, HEAD~1, a branch or a commit hash)`);
}

/** Load one side of the diff: params and metrics at a revision (undefined = working tree). */
export async function loadRevision(root: string, paramsFile: string, rev: string | undefined, opts: { allowMissing?: boolean } = {}): Promise<RevisionReport> {
  let label = rev ?? WORKING_TREE;
  if (rev !== undefined) await checkRevision(root, rev);
  let metricsText = await readAt(root, rev, METRICS_PATH);
  if (metricsText === undefined && opts.allowMissing) {
    // The older side predates the reports: compare against nothing, so every metric shows as added.
    label = `${label} (no reports)`;
    metricsText = '{}';
  }
  if (metricsText === undefined) {
    throw new UserError(
      `diff: ${rev === undefined ? 'the working tree has' : `revision ${rev} has`} no ${METRICS_PATH} — ` +
        `generate it with \`npx tsx pipeline.ts repro report\`${rev === undefined ? '' : ' and commit reports/ at that revision'}, or pick revisions that have reports`,
    );
  }
  let metrics;
  try {
    metrics = parseMetrics(metricsText, `${METRICS_PATH} at ${label}`);
  } catch (e) {
    throw new UserError(`diff: ${(e as Error).message}`);
  }
  const paramsText = await readAt(root, rev, paramsFile);
  let params: unknown = null;
  if (paramsText !== undefined) {
    try {
      params = parseYaml(paramsText);
    } catch (e) {
      throw new UserError(`diff: ${paramsFile} at ${label} is not valid YAML (${(e as Error).message.split('\n')[0]})`);
    }
  }
  return { label, params, metrics };
}

/** Compute and format the diff (what the verb prints). */
export async function runDiff(o: DiffOptions): Promise<string> {
  const revA = o.revA ?? 'HEAD';
  const a = await loadRevision(o.root, o.paramsFile, revA, { allowMissing: true });
  const b = await loadRevision(o.root, o.paramsFile, o.revB);
  const fromParams = (b.params as { report?: { alpha?: unknown } } | null)?.report?.alpha;
  const alpha = o.alpha ?? (typeof fromParams === 'number' ? fromParams : 0.05);
  return formatDiff(diffReports(a, b, { alpha }), o.format);
}

function parseAlpha(v: string): number {
  const x = Number(v);
  if (!(x > 0 && x < 1)) throw new UserError(`--alpha must be a number in (0, 1), got '${v}'`);
  return x;
}

export const diffCommand: CommandPlugin = (program: Command, project: PipelineProject) => {
  program
    .command('diff')
    .description("compare two revisions' params and reports/metrics.json (default: HEAD vs the working tree)")
    .argument('[revA]', 'older revision (default: HEAD)')
    .argument('[revB]', 'newer revision (default: the working tree)')
    .option('--md', 'Markdown, for pasting into a pull request')
    .option('--json', 'JSON')
    .option('--alpha <a>', 'false-discovery rate of the "within noise" mark (default: report.alpha of the newer params, else 0.05)', parseAlpha)
    .action(async (revA: string | undefined, revB: string | undefined, opts: { md?: boolean; json?: boolean; alpha?: number }) => {
      if (opts.md && opts.json) throw new UserError('diff: choose one of --md and --json');
      const out = await runDiff({
        root: project.root,
        paramsFile: project.paramsFile,
        revA,
        revB,
        format: opts.json ? 'json' : opts.md ? 'md' : 'text',
        alpha: opts.alpha,
      });
      process.stdout.write(out);
    });
};
