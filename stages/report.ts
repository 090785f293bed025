/**
 * Stage `report`: the paper's tables and figures regenerated into `report.dir` (reports/ or
 * reports/<profile>/, published from the `files` output), with the paper's values beside ours, metrics.json and a README with
 * provenance. No axes: by the default input rule it gathers every instance of each dep.
 *
 * The upstream instances become records in science/report/gather.ts (tables decoded by their
 * declarations), and science/report/build.ts does the rest; provenance (git commit, notes file,
 * input digests) is engine plumbing. Its params are the `report:` section alone, so changing a
 * colour or the significance level reruns only the report.
 */
import { fileURLToPath } from 'node:url';
import { canonicalJson } from '../engine/hash.ts';
import { gitCommit, inputsProvenance, readParamFile, sha256 } from '../engine/provenance.ts';
import { defineStage, type InputInstance, type StageDef } from '../engine/types.ts';
import { buildReport } from '../science/report/build.ts';
import { gatherRecords as gatherFromRuns } from '../science/report/gather.ts';
import type { ReportOptions } from '../science/report/options.ts';
import { EXTERNAL_PHASE, externalModelOf } from './conditions.ts';
import type { Params } from './params/index.ts';

/** Upstream stages the report reads when they exist (see reportStageFor). */
export const REPORT_SOURCES = ['export', 'cluster', 'shuffle-sample', 'learning-curve'] as const;
/** Lesion outputs the report reads, from whichever lesion stage produces them. */
const LESION_OUTPUTS = ['single', 'double_joint', 'double_conditional', 'dependency_edges'] as const;

interface ReportStageParams {
  /** `dir` is where the report is published (the engine copies it there); the science never reads it. */
  report: ReportOptions & { readonly dir?: string };
}

const PROJECT_ROOT = fileURLToPath(new URL('..', import.meta.url));
const readNotes = (path: string | null) => readParamFile('report.notes', 'notes file', path, PROJECT_ROOT);

/** The report's records from its inputs, each stage in its part (exported so tests can drive it with hand-built instances). */
export function gatherRecords(inputs: Readonly<Record<string, readonly InputInstance[]>>, o: ReportOptions) {
  const clusters = inputs['cluster'] ?? [];
  const isExternal = (i: InputInstance) => i.axes.phase === EXTERNAL_PHASE;
  const others = Object.entries(inputs).filter(([stage]) => !(REPORT_SOURCES as readonly string[]).includes(stage));
  return gatherFromRuns(
    {
      exports: inputs['export'] ?? [],
      clusters: clusters.filter((i) => !isExternal(i)),
      externalClusters: clusters.filter(isExternal).map((i) => ({ ...i, model: externalModelOf(i.axes) })),
      shuffles: inputs['shuffle-sample'] ?? [],
      curves: inputs['learning-curve'] ?? [],
      lesions: others.flatMap(([, list]) => list),
    },
    o,
  );
}

export const reportStage = defineStage<ReportStageParams>({
  module: import.meta.url,
  name: 'report',
  description: "Regenerate the paper's tables and figures in reports/ with the paper's values beside ours",
  deps: [...REPORT_SOURCES],
  params: (p: Params): ReportStageParams => ({ report: p.report }),
  outputs: ['files'],
  publish: { files: (p) => p.report.dir ?? 'reports' },
  // The commit (newest change outside reports/) and the notes' content: both end up in README.md.
  runtime: async (p) => {
    const notes = await readNotes(p.report.notes);
    return { ...(await gitCommit(PROJECT_ROOT, ['reports'])), ...(notes ? { notes_sha256: sha256(notes.text) } : {}) };
  },
  async run(ctx) {
    const o = ctx.params.report;
    ctx.progress({ message: 'reading runs' });
    const { backends, ...records } = await gatherRecords(ctx.inputs, o);
    const provenance = {
      commit: ctx.runtime.commit ?? 'unknown',
      commitDate: ctx.runtime.commit_date ?? 'unknown',
      paramsDigest: sha256(canonicalJson(o)).slice(0, 16),
      inputs: inputsProvenance(ctx.inputs),
      backends,
    };
    ctx.progress({ fraction: 0.3, message: 'rendering tables and figures' });
    const notes = await readNotes(o.notes);
    const built = await buildReport({ ...records, provenance, ...(notes ? { notes: { path: notes.path, markdown: notes.text } } : {}) }, o);
    return {
      outputs: { files: { kind: 'files', files: built.files } },
      metrics: { tables: built.tables.length, figures: built.figures.filter((f) => f.spec).length, missing: built.missing.length, metrics: built.metricCount },
    };
  },
});

/**
 * The report stage with its deps narrowed to the stages that exist, so it works while the
 * lesion (or any other) area is absent: `stages.push(reportStageFor(stages))`.
 */
export function reportStageFor(stages: readonly StageDef[]): StageDef<ReportStageParams> {
  const names = new Set(stages.map((s) => s.name));
  const lesionStages = stages.filter((s) => s.outputs.some((out) => (LESION_OUTPUTS as readonly string[]).includes(out))).map((s) => s.name);
  const deps = [...REPORT_SOURCES.filter((n) => names.has(n)), ...lesionStages.filter((n) => !(REPORT_SOURCES as readonly string[]).includes(n))];
  return { ...reportStage, deps };
}
