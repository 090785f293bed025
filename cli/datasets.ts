/**
 * Dataset verbs and options:
 * - `repro --mirror DIR`: take official dataset files from DIR (`<DIR>/<dataset folder>/<file>`,
 *   gzipped or not) by setting NNMOD_MIRROR before any stage runs (workers inherit it).
 * - `datasets [--mirror DIR] [--json]`: each known dataset, whether params lists it, where it
 *   comes from (mirror / earlier download / official URL / generated / mixture), whether its
 *   table is cached for the current params and code, its sizes and digests, and every official
 *   file with its content sha256 and where a copy was found.
 */
import { existsSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Command } from 'commander';
import { addVerbOption, type CommandPlugin, type PipelineProject } from '../engine/project.ts';
import { Session } from '../engine/session.ts';
import { DatasetError } from '../science/datasets/errors.ts';
import { downloadPath, MIRROR_ENV, mirrorCandidates } from '../science/datasets/load.ts';
import { DATASETS, type DatasetInfo, type DownloadedDataset, type OfficialFile } from '../science/datasets/registry.ts';
import { officialUrls } from '../science/datasets/urls.ts';

/** Check a mirror directory and return its absolute path. */
export function checkMirror(dir: string): string {
  const abs = resolve(dir);
  if (!existsSync(abs) || !statSync(abs).isDirectory())
    throw new DatasetError(
      `--mirror ${dir}: no such directory (expected a folder laid out <dataset>/<official file name>, e.g. ${join(abs, 'mnist', 'train-images-idx3-ubyte.gz')})`,
    );
  return abs;
}

export interface OfficialFileView {
  dataset: string;
  file: string;
  /** Content name (IDX: file without .gz; tar: member path) → expected sha256. */
  contentSha256: Record<string, string>;
  /** Where a copy is: 'mirror', 'downloads', or 'remote' (to be downloaded from `location`). */
  where: 'mirror' | 'downloads' | 'remote';
  location: string;
}

export interface DatasetView {
  name: string;
  title: string;
  kind: DatasetInfo['kind'];
  inParams: boolean;
  origin: string;
  /** Table state for the current params and code. */
  cached: 'up to date' | 'stale' | 'never built' | 'not in params';
  nTrain?: number;
  nTest?: number;
  /** The stored table (when up to date): content digest and size in bytes. */
  table?: { digest: string; size: number };
  files: OfficialFileView[];
}

function fileView(info: DownloadedDataset, file: OfficialFile, mirror: string | undefined, downloadsDir: string): OfficialFileView {
  const contentSha256 = file.kind === 'idx' ? { [file.name.replace(/\.gz$/, '')]: file.contentSha256 } : { ...file.members };
  const base = { dataset: info.name, file: file.name, contentSha256 };
  const inMirror = mirror ? mirrorCandidates(mirror, info, file).find((p) => existsSync(p)) : undefined;
  if (inMirror) return { ...base, where: 'mirror', location: inMirror };
  const dl = downloadPath(downloadsDir, info, file);
  if (existsSync(dl)) return { ...base, where: 'downloads', location: dl };
  let url = '(no URL known)';
  try {
    url = officialUrls(info.name, file.name)[0] ?? url;
  } catch {}
  return { ...base, where: 'remote', location: url };
}

function downloadOrigin(info: DownloadedDataset, files: OfficialFileView[], mirror?: string): string {
  const n = (w: OfficialFileView['where']) => files.filter((f) => f.where === w).length;
  if (n('mirror') === files.length) return `mirror ${join(mirror!, info.mirrorFolder)}`;
  if (n('downloads') === files.length) return 'downloaded (verified copy kept)';
  if (n('remote') === files.length) return `to download from ${new URL(files[0].location).host}`;
  return `${n('mirror')} file(s) in the mirror, ${n('downloads')} downloaded, ${n('remote')} to download`;
}

/** Build the view of every known dataset for the given params (see the module comment). */
export async function datasetsView(project: PipelineProject, opts: { params?: string; set?: string[]; mirror?: string }): Promise<DatasetView[]> {
  const mirror = opts.mirror ? checkMirror(opts.mirror) : process.env[MIRROR_ENV] || undefined;
  const session = await Session.open(project, { paramsFile: opts.params, overrides: opts.set ?? [], targets: ['datasets'] });
  try {
    const params = session.params.values as { datasets: { names: string[]; seed: number } };
    const downloadsDir = join(session.store.downloadsRoot, 'datasets');
    const instances = new Map((session.graph.instances.get('datasets') ?? []).map((i) => [String(i.axes.dataset), i]));
    const views: DatasetView[] = [];
    const filesOf = new Map<string, OfficialFileView[]>();
    for (const info of DATASETS.values()) {
      if (info.kind === 'download')
        filesOf.set(
          info.name,
          info.files.map((f) => fileView(info, f, mirror, downloadsDir)),
        );
    }
    for (const info of DATASETS.values()) {
      const inst = instances.get(info.name);
      const view: DatasetView = { name: info.name, title: info.title, kind: info.kind, inParams: !!inst, origin: '', cached: 'not in params', files: [] };
      if (info.kind === 'download') {
        view.files = filesOf.get(info.name)!;
        view.origin = downloadOrigin(info, view.files, mirror);
        view.nTrain = info.expected.nTrain;
        view.nTest = info.expected.nTest;
      } else if (info.kind === 'generated') {
        view.origin = `generated (seed ${params.datasets.seed})`;
        view.nTrain = info.nTrain;
        view.nTest = info.nTest;
      } else {
        const [a, b] = info.sources.map((s) => DATASETS.get(s)!);
        view.origin = `mixture of ${a.name} + ${b.name}${info.separated ? ', labels 0–4 / 5–9' : ''} (seed ${params.datasets.seed})`;
        const size = (d: DatasetInfo, which: 'nTrain' | 'nTest') => (d.kind === 'download' ? d.expected[which] : d.kind === 'generated' ? d[which] : undefined);
        if (!info.separated) {
          view.nTrain = (size(a, 'nTrain') ?? NaN) + (size(b, 'nTrain') ?? NaN);
          view.nTest = (size(a, 'nTest') ?? NaN) + (size(b, 'nTest') ?? NaN);
        }
      }
      if (inst) {
        const key = session.key(
          await session.baseParts(inst, () => {
            throw new Error('the datasets stage has no upstream');
          }),
        );
        const rec = session.store.getValidRun(key);
        if (rec) {
          view.cached = 'up to date';
          const table = rec.outputs.table;
          if (table) view.table = { digest: table.digest, size: table.size };
          if (typeof rec.metrics.n_train === 'number') view.nTrain = rec.metrics.n_train;
          if (typeof rec.metrics.n_test === 'number') view.nTest = rec.metrics.n_test;
        } else {
          view.cached = session.store.latestRun('datasets', inst.axes, 'instance') ? 'stale' : 'never built';
        }
      }
      views.push(view);
    }
    return views;
  } finally {
    session.close();
  }
}

function formatViews(views: DatasetView[]): string {
  const num = (n?: number) => (n === undefined || Number.isNaN(n) ? '?' : String(n));
  const rows = [['DATASET', 'PARAMS', 'CACHED', 'TRAIN', 'TEST', 'TABLE', 'DIGEST', 'ORIGIN']];
  for (const v of views)
    rows.push([
      v.name,
      v.inParams ? 'yes' : 'no',
      v.cached,
      num(v.nTrain),
      num(v.nTest),
      v.table ? `${(v.table.size / 1e6).toFixed(1)} MB` : '-',
      v.table ? v.table.digest.slice(0, 12) : '-',
      v.origin,
    ]);
  const widths = rows[0].map((_, c) => Math.max(...rows.map((r) => r[c].length)));
  const lines = rows.map((r) => r.map((cell, c) => (c === r.length - 1 ? cell : cell.padEnd(widths[c]))).join('  '));
  lines.push('', 'Official files (sha256 of the decompressed content; for the CIFAR-10 archive, of each member):');
  for (const v of views) {
    for (const f of v.files) {
      const entries = Object.entries(f.contentSha256);
      const where = f.where === 'remote' ? `not here; download from ${f.location}` : `${f.where} ${f.location}`;
      if (entries.length === 1) lines.push(`  ${v.name}/${f.file}  ${entries[0][1]}  ${where}`);
      else {
        lines.push(`  ${v.name}/${f.file}  ${where}`);
        for (const [member, digest] of entries) lines.push(`    ${member}  ${digest}`);
      }
    }
  }
  return lines.join('\n');
}

const collect = (v: string, prev: string[] = []) => [...prev, v];

export const datasetsCommands: CommandPlugin = (program: Command, project: PipelineProject) => {
  addVerbOption(program, project, {
    flags: '--mirror <dir>',
    description: `take official dataset files from DIR (<DIR>/<dataset>/<official file>, gzipped or not) instead of downloading them; same as ${MIRROR_ENV}=DIR`,
    apply: (value) => {
      if (typeof value === 'string') process.env[MIRROR_ENV] = checkMirror(value);
    },
  });
  program
    .command('datasets')
    .description('list each dataset: in params or not, cached or not, sizes, digests, and where its files come from')
    .option('--mirror <dir>', `mirror directory to look in (default: $${MIRROR_ENV})`)
    .option('--json', 'machine-readable output')
    .option('--params <file>', 'params file to use instead of the project default')
    .option('-S, --set <key=value>', 'override one param (repeatable)', collect)
    .action(async (o: { mirror?: string; json?: boolean; params?: string; set?: string[] }) => {
      const views = await datasetsView(project, o);
      console.log(o.json ? JSON.stringify(views, null, 2) : formatViews(views));
    });
};
