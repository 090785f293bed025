/**
 * `npx tsx pipeline.ts diff [REV_A] [REV_B] [--report DIR] [--against DIR] [--md | --json] [--alpha A]`
 *
 * Compares two revisions' report (`<DIR>/metrics.json`; default: HEAD vs the working tree; one
 * revision: that revision vs the working tree). Each side's params are those of the params
 * file recorded in that report's folder (`<DIR>/.published.json`, written when the report was
 * published), read at the same revision, so a report is never compared with a params file that
 * did not produce it. DIR defaults to the `report.dir` of the last repro's params file;
 * `--against DIR` takes side A from another folder (e.g. the quick profile's report against
 * the committed one). Git is run with execFile; the diff itself is science/report/diff.ts.
 */
import { execFile } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Command } from 'commander';
import { parse as parseYaml } from 'yaml';
import { UserError } from '../engine/errors.ts';
import { chooseParams } from '../engine/profiles.ts';
import { PUBLISHED_LEDGER, type PublishedLedger } from '../engine/publish.ts';
import type { CommandPlugin, PipelineProject } from '../engine/project.ts';
import { diffReports, formatDiff, type DiffFormat, type RevisionReport } from '../science/report/diff.ts';
import { parseMetrics } from '../science/report/metrics.ts';

export const DEFAULT_REPORT_DIR = 'reports';
const WORKING_TREE = 'working tree';

export interface DiffOptions {
  /** Project root (the directory holding params.yaml and reports/). */
  root: string;
  /** Params file assumed for a report folder that records none (reports published before folders recorded theirs). */
  paramsFile: string;
  /** Report folder of side B (and of A unless againstDir); default reports/. */
  reportDir?: string;
  /** Report folder of side A. */
  againstDir?: string;
  /** Revisions; undefined = HEAD (A) / the working tree (B). */
  revA?: string;
  revB?: string;
  format: DiffFormat;
  /** Significance level; default: report.alpha of revision B's params, else 0.05. */
  alpha?: number;
}

/** Largest git output read (a report's metrics.json at a revision). */
const GIT_MAX_BUFFER = 256 * 1024 * 1024;

/** Run git in `root` (no shell); a non-zero exit is `ok: false`, not an exception. */
function git(root: string, args: string[]): Promise<{ ok: boolean; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    execFile('git', args, { cwd: root, encoding: 'utf8', maxBuffer: GIT_MAX_BUFFER }, (error, stdout, stderr) => {
      resolve({ ok: !error, stdout, stderr: stderr.trim() });
    });
  });
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

/** Load one side of the diff: a report folder's metrics and the params file it records, at a revision (undefined = working tree). */
export async function loadRevision(
  root: string,
  paramsFile: string,
  rev: string | undefined,
  opts: { allowMissing?: boolean; dir?: string } = {},
): Promise<RevisionReport> {
  const dir = (opts.dir ?? DEFAULT_REPORT_DIR).replace(/\/+$/, '');
  const metricsPath = `${dir}/metrics.json`;
  const at = rev ?? WORKING_TREE;
  if (rev !== undefined) await checkRevision(root, rev);
  let metricsText = await readAt(root, rev, metricsPath);
  let missing = false;
  if (metricsText === undefined && opts.allowMissing) {
    // The older side predates the reports: compare against nothing, so every metric shows as added.
    missing = true;
    metricsText = '{}';
  }
  if (metricsText === undefined) {
    throw new UserError(
      `diff: ${rev === undefined ? 'the working tree has' : `revision ${rev} has`} no ${metricsPath} — ` +
        `generate it with \`npx tsx pipeline.ts repro report --params FILE\` for the params file whose report.dir is ${dir}${rev === undefined ? '' : ` and commit ${dir}/ at that revision`}, or pick revisions or a --report folder that have reports`,
    );
  }
  let metrics;
  try {
    metrics = parseMetrics(metricsText, `${metricsPath} at ${at}`);
  } catch (e) {
    throw new UserError(`diff: ${(e as Error).message}`);
  }
  const ledger = await readLedgerAt(root, rev, dir);
  const used = ledger?.params ?? paramsFile;
  const how = ledger
    ? used + (ledger.overrides.length ? ` ${ledger.overrides.map((o) => `-S ${o}`).join(' ')}` : '')
    : `${used}, assumed: ${dir}/${PUBLISHED_LEDGER} records none`;
  const label = missing ? `${at} (no reports in ${dir}/)` : `${at}: ${dir}/ from ${how}`;
  const paramsText = missing ? undefined : await readAt(root, rev, used);
  let params: unknown = null;
  if (paramsText !== undefined) {
    try {
      params = parseYaml(paramsText);
    } catch (e) {
      throw new UserError(`diff: ${used} at ${at} is not valid YAML (${(e as Error).message.split('\n')[0]})`);
    }
  }
  return { label, params, metrics };
}

async function readLedgerAt(root: string, rev: string | undefined, dir: string): Promise<PublishedLedger | undefined> {
  const text = await readAt(root, rev, `${dir}/${PUBLISHED_LEDGER}`);
  if (text === undefined) return undefined;
  try {
    const j = JSON.parse(text) as PublishedLedger;
    return typeof j.params === 'string' ? { ...j, overrides: Array.isArray(j.overrides) ? j.overrides : [] } : undefined;
  } catch {
    return undefined;
  }
}

/** Report folders in the working tree (any folder under reports/, two levels deep, with a ledger), and their params files. */
export function publishedFolders(root: string): { dir: string; params: string }[] {
  const found: { dir: string; params: string }[] = [];
  const visit = (rel: string, depth: number) => {
    const abs = join(root, rel);
    if (!existsSync(abs)) return;
    const ledger = join(abs, PUBLISHED_LEDGER);
    if (existsSync(ledger)) {
      try {
        found.push({ dir: rel, params: String((JSON.parse(readFileSync(ledger, 'utf8')) as PublishedLedger).params) });
      } catch {
        // an unreadable ledger: not offered
      }
    }
    if (depth > 0) for (const d of readdirSync(abs, { withFileTypes: true })) if (d.isDirectory()) visit(`${rel}/${d.name}`, depth - 1);
  };
  visit(DEFAULT_REPORT_DIR, 2);
  return found;
}

/** The report folder of a params file (its report.dir), or reports/ when it names none or cannot be read. */
export function reportDirOf(root: string, paramsFile: string): string {
  try {
    const dir = (parseYaml(readFileSync(join(root, paramsFile), 'utf8')) as { report?: { dir?: unknown } })?.report?.dir;
    return typeof dir === 'string' && dir ? dir : DEFAULT_REPORT_DIR;
  } catch {
    return DEFAULT_REPORT_DIR;
  }
}

/** Compute and format the diff (what the verb prints). */
export async function runDiff(o: DiffOptions): Promise<string> {
  const revA = o.revA ?? 'HEAD';
  const dir = o.reportDir ?? DEFAULT_REPORT_DIR;
  let a: RevisionReport;
  let b: RevisionReport;
  try {
    a = await loadRevision(o.root, o.paramsFile, revA, { allowMissing: o.againstDir === undefined, dir: o.againstDir ?? dir });
    b = await loadRevision(o.root, o.paramsFile, o.revB, { dir });
  } catch (e) {
    const others = publishedFolders(o.root).filter((f) => f.dir !== dir);
    if (!(e instanceof UserError) || !others.length) throw e;
    throw new UserError(`${e.message}. Report folders here: ${others.map((f) => `${f.dir} (${f.params})`).join(', ')}; choose one with --report DIR`);
  }
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
    .description("compare two revisions' report (metrics.json) and the params files that produced them (default: HEAD vs the working tree)")
    .argument('[revA]', 'older revision (default: HEAD)')
    .argument('[revB]', 'newer revision (default: the working tree)')
    .option('--report <dir>', "report folder to compare (default: report.dir of the last repro's params file, else reports)")
    .option('--against <dir>', 'take the older side from this report folder instead (e.g. --report reports/quick --against reports)')
    .option('--md', 'Markdown, for pasting into a pull request')
    .option('--json', 'JSON')
    .option('--alpha <a>', 'false-discovery rate of the "within noise" mark (default: report.alpha of the newer params, else 0.05)', parseAlpha)
    .action(
      async (revA: string | undefined, revB: string | undefined, opts: { md?: boolean; json?: boolean; alpha?: number; report?: string; against?: string }) => {
        if (opts.md && opts.json) throw new UserError('diff: choose one of --md and --json');
        const choice = chooseParams(project.root, join(project.root, 'artifacts', 'state'), undefined, project.paramsFile);
        const out = await runDiff({
          root: project.root,
          paramsFile: project.paramsFile,
          reportDir: opts.report ?? reportDirOf(project.root, choice.file),
          againstDir: opts.against,
          revA,
          revB,
          format: opts.json ? 'json' : opts.md ? 'md' : 'text',
          alpha: opts.alpha,
        });
        process.stdout.write(out);
      },
    );
};
