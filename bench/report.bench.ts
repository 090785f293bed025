/**
 * Report rendering at the paper's scale (prints figures; not a test):
 * 6 conditions × 10 runs × 2 phases × 4 k, 320 shuffles per method, 200 init networks, one
 * lesioned network. Inputs are synthetic InputInstances whose shuffle samples are Arrow IPC
 * bytes decoded on read, as cached runs are. Target: the whole report ≤ 30 s.
 *
 *   npx tsx bench/report.bench.ts
 */
import { tableFromArrays, tableFromIPC, tableToIPC } from 'apache-arrow';
import type { InputArtifact, InputInstance, RunContext } from '../engine/types.ts';
import { DEFAULT_REPORT_OPTIONS, type ReportOptions } from '../science/report/options.ts';
import { reportStage } from '../stages/report.ts';
import { syntheticLesion, syntheticNetworks } from '../test/report-synthetic.ts';

const t0 = performance.now();
const networks = syntheticNetworks({ runs: 10, ks: [2, 4, 7, 10], samples: 320, initNetworks: 200 });
const inputs: Record<string, InputInstance[]> = { export: [], cluster: [], 'shuffle-sample': [], lesion: [] };
const arrow = (bytes: Uint8Array, digest: string): InputArtifact => ({
  kind: 'arrow',
  digest: digest as InputArtifact['digest'],
  table: async () => tableFromIPC(bytes),
  bytes: async () => bytes,
  files: async () => ({}),
});
let i = 0;
for (const n of networks) {
  const axes = { dataset: n.dataset, dropout: n.dropout, run: n.run, phase: n.phase };
  if (n.k === 4) inputs.export.push({ stage: 'export', axes, outputs: {}, metrics: { train_accuracy: n.trainAcc, test_accuracy: n.testAcc } });
  inputs.cluster.push({ stage: 'cluster', axes: { ...axes, k: n.k }, outputs: {}, metrics: { ncut: n.ncut, k: n.k } });
  for (const [method, s] of Object.entries(n.shuffles)) {
    const bytes = tableToIPC(tableFromArrays({ sample: Int32Array.from(s.samples!.keys()), ncut: s.samples! }), 'file');
    inputs['shuffle-sample'].push({
      stage: 'shuffle-sample',
      axes: { ...axes, k: n.k, method },
      outputs: { samples: arrow(bytes, `d${i++}`) },
      metrics: { ncut: n.ncut, mean: s.mean, sd: s.sd, z: s.z, p: s.p, n: s.n, significant: s.significant, min: s.min, max: s.max },
    });
  }
}
const lesion = syntheticLesion();
inputs.lesion.push({
  stage: 'lesion',
  axes: { dataset: lesion.dataset, dropout: lesion.dropout, run: lesion.run },
  outputs: {
    single: arrow(
      tableToIPC(
        tableFromArrays({
          layer: Int32Array.from(lesion.single!.map((r) => r.layer)),
          cluster: Int32Array.from(lesion.single!.map((r) => r.cluster)),
          size: Int32Array.from(lesion.single!.map((r) => r.size)),
          proportion: Float64Array.from(lesion.single!.map((r) => r.proportion)),
          true_acc: Float64Array.from(lesion.single!.map((r) => r.trueAcc)),
          diff: Float64Array.from(lesion.single!.map((r) => r.diff)),
          mean: Float64Array.from(lesion.single!.map((r) => r.mean)),
          sd: Float64Array.from(lesion.single!.map((r) => r.sd)),
          z: Float64Array.from(lesion.single!.map((r) => r.z)),
          p: Float64Array.from(lesion.single!.map((r) => r.p)),
          category: lesion.single!.map((r) => r.category),
        }),
        'file',
      ),
      'single',
    ),
  },
  metrics: { intact_accuracy: lesion.intactAccuracy },
});
const t1 = performance.now();
const ctx = {
  stage: 'report',
  key: 'bench',
  axes: {},
  params: { report: DEFAULT_REPORT_OPTIONS },
  inputs,
  runtime: { commit: 'bench', commit_date: 'bench' },
  seed: 0,
  progress: () => {},
} as unknown as RunContext<{ report: ReportOptions }>;
const res = await reportStage.run(ctx);
const t2 = performance.now();
const files = (res.outputs.files as { files: Record<string, string> }).files;
const bytes = Object.values(files).reduce((s, f) => s + Buffer.byteLength(f), 0);
console.log(
  `inputs: ${inputs.cluster.length} cluster, ${inputs['shuffle-sample'].length} shuffle-sample (320 samples each), ${inputs.export.length} export instances (built in ${((t1 - t0) / 1000).toFixed(1)} s)`,
);
console.log(
  `report stage run (read + tables + figures): ${((t2 - t1) / 1000).toFixed(2)} s → ${Object.keys(files).length} files, ${(bytes / 1e6).toFixed(2)} MB, metrics ${JSON.stringify(res.metrics)}  (target ≤ 30 s)`,
);
