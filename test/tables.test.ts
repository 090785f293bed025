/**
 * Every Arrow table the pipeline writes, through its declaration (science/table-schema.ts):
 * the exact bytes (outputs are content-hashed: these digests are those of the hand-written
 * writers the declarations replaced), the way back, and the errors for bad input.
 */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { Field, Float64, List, Table, tableFromArrays, tableFromIPC, tableToIPC, vectorFromArray } from 'apache-arrow';
import * as F from './fixtures/tables.ts';
import { curveTable } from '../science/cluster/learning-curve.ts';
import { labelColumns, labelsTable, firstSamples, shuffleSamplesTable } from '../science/cluster/tables.ts';
import { datasetFromTable, datasetToTable } from '../science/datasets/table.ts';
import { historyTable } from '../science/mlp/history.ts';
import { snapshotsFromTable, snapshotsToTable } from '../science/mlp/snapshots.ts';
import { weightsFromTable, weightsToTable } from '../science/weights.ts';
import {
  dependencyEdgeRows,
  dependencyEdgesTable,
  dependencyPairRows,
  dependencyPairsTable,
  doubleConditionalTable,
  doubleJointTable,
  doubleTrialsToTable,
  emptyTrialRows,
  singleLesionTable,
  singlePerClassTable,
  singleTrialsToTable,
  submodulesFromTable,
  submodulesToTable,
  trialsFromTable,
  trueLesionsFromTable,
  trueLesionsToTable,
} from '../science/lesion/index.ts';
import { defineTable, float64, int32, listFloat32, utf8Of } from '../science/table-schema.ts';

const SINGLE_TRIALS = { ...F.TRIALS, kind: F.TRIALS.kind.map(() => 'single' as const) };

/** name → the table as the pipeline writes it. */
const TABLES: Record<string, () => Table> = {
  curve: () => curveTable.toTable(F.CURVE),
  weights: () => weightsToTable(F.WEIGHTS),
  'weights-init': () => weightsToTable(F.WEIGHTS_INIT),
  'dataset-uint8': () => datasetToTable(F.DATASET_UINT8),
  'dataset-float': () => datasetToTable(F.DATASET_FLOAT),
  'dataset-mixture': () => datasetToTable(F.DATASET_MIXTURE),
  history: () => historyTable.toTable(F.HISTORY, { phase: 'pruned' }),
  'history-empty': () => historyTable.toTable([], { phase: 'unpruned' }),
  snapshots: () => snapshotsToTable(F.SNAPSHOTS, 'unpruned', 2),
  'snapshots-empty': () => snapshotsToTable([], 'pruned', 0),
  labels: () => labelsTable.toTable(labelColumns(F.LABELS, F.LAYER_SIZES)),
  ncuts: () => shuffleSamplesTable.toTable({ sample: F.SAMPLES, ncut: F.NCUTS }),
  submodules: () => submodulesToTable(F.SUBMODULES, { k: '4', ncut: '1.25' }),
  'submodules-bare': () => submodulesToTable(F.SUBMODULES),
  'true-lesions': () => trueLesionsToTable(F.PLAN_ROWS, F.PLAN_ACCURACY, F.PLAN_CLASS_ACCURACY, 2),
  'single-trials': () => singleTrialsToTable(SINGLE_TRIALS),
  'double-trials': () => doubleTrialsToTable(F.TRIALS),
  'double-trials-empty': () => doubleTrialsToTable(emptyTrialRows()),
  single: () => singleLesionTable.toTable(F.SINGLE, F.LESION_META),
  'single-empty': () => singleLesionTable.toTable([], F.LESION_META),
  'single-per-class': () => singlePerClassTable.toTable(F.SINGLE_PER_CLASS, F.LESION_META),
  'double-joint': () => doubleJointTable.toTable(F.JOINT, F.LESION_META),
  'double-conditional': () => doubleConditionalTable.toTable(F.CONDITIONAL, F.LESION_META),
  'double-conditional-empty': () => doubleConditionalTable.toTable([], F.LESION_META),
  'dependency-pairs': () => dependencyPairsTable.toTable(dependencyPairRows(F.DEPENDENCY), F.LESION_META),
  'dependency-edges': () => dependencyEdgesTable.toTable(dependencyEdgeRows(F.DEPENDENCY), F.LESION_META),
  'dependency-edges-empty': () => dependencyEdgesTable.toTable(dependencyEdgeRows(F.DEPENDENCY.slice(1)), F.LESION_META),
};

/**
 * sha256 of each table's IPC file as the hand-written writers produced it (apache-arrow 21.2;
 * tableFromArrays for curve, labels and ncuts, in a fresh process for curve's dictionary id 0).
 */
const GOLDEN: Record<string, string> = {
  curve: 'ce8f9b3d4c00e87c7e435315b957e4f19f34dab6ef983e59ef89d12bc1bd2476',
  weights: '7d2d4d8481c8341a03a26012a53b417196d9b68914cf7c55277cfe5a4f12c1b6',
  'weights-init': '0ebb54184c9bf6b74bcf22f79405b776ee8b9cb243b5f5737fcacacc0dd9a6bb',
  'dataset-uint8': 'cc912569e171e155b748aef22a6d33d40508f58d7a957330aefa0129eac4a473',
  'dataset-float': 'f64c4a46149418d1486de229bad5d684a2b3b749d747882e748f4ec1044a80e7',
  'dataset-mixture': 'ef2de1ff7cada17eb01410d7a616714651289c4397dcbcccfb8e49d2fe595ce4',
  history: '7effa6cb907c384b636f7dc5e2f7ed0e8edf5ffee1232a88643af030e5419586',
  'history-empty': '4680deacb2b1aaa6da1659b8271c322fc3b16d34b261ebac7e7c5198ccf00221',
  snapshots: '2f4b9bdc8d3d003d4e81ddada9ff5e6a0cdf45ab0cbdf25400e8fa794f460176',
  'snapshots-empty': '5732871eb0da01318d8ec3a715572e74315c040156d2866c02504c0fa60a39fd',
  labels: '0770a736b6a7460050554f105e9aa4b26116f098106b2489e9770392a2806fbd',
  ncuts: 'da7b60625f077219518c9992fd5896eef1232bbd9d707332e48c9c6b28375a96',
  submodules: 'ccbd4a7efc608056e845a8644733701cf8b623ca907815c0904531898b9afcfe',
  'submodules-bare': 'c4f7e0d1e06a0a5b1e5e4db985f7d51485f8e4e8896264079efe8b62ebccfda2',
  'true-lesions': '3c446936a4d967198a668394e07d2af4d74689f6a07ff49665795d296725e211',
  'single-trials': '196d303d964898a1603e192dfc16131b3752c0aad5d6d1eca69826a03f8b7662',
  'double-trials': '5e4fae82a4906b105045750784c897a596004ed9d16a1fc09c6c2d8239b6bcdb',
  'double-trials-empty': '2d7bea757bcdba2076d65c12c249d1f4e7d29fc822f16c0525d305142fd1af88',
  single: '023bf74b0209870dfc5cd3309ff9e04ce1e7e078b8769638bbb93f44e85a5938',
  'single-empty': '885fba5233e3e5895a3d24be33e276ed2ab56dc83e8b25274f1d385f26d43b94',
  'single-per-class': '193b4ea218b667ad7dd00cf884ce3f8f3cf64b830ee032107181c800af8225e7',
  'double-joint': 'f15696ee9ed465920c0824710adb5ed75befa250ce54dcb09b235d51c208b88b',
  'double-conditional': '092696509176f910d20709cee191883915a355e982a60efe65c072c01a2e3cc7',
  'double-conditional-empty': 'dfd12eb09b0b90f3af0a423904045252a606976fc17373e118fc208baaee767d',
  'dependency-pairs': '0051a39af5715cb21a05d10e8b990c05c3cbc97be9d3be29f7308fd5e2411e95',
  'dependency-edges': '934bb10f04eb656bbb7aea44b69d7b89730f5a5f7bbcef2e741145456b22dd49',
  'dependency-edges-empty': 'aa7257e0aeeeb8a9ff8d44911742122f1fc17d54c80eb36fe135b71f9dd7ccb8',
};

const ipc = (t: Table) => tableToIPC(t, 'file');
const sha256 = (bytes: Uint8Array) => createHash('sha256').update(bytes).digest('hex');
const roundTrip = (t: Table) => tableFromIPC(ipc(t));

test('every table is written byte for byte as the hand-written writers wrote it', () => {
  assert.deepEqual(Object.keys(TABLES).sort(), Object.keys(GOLDEN).sort());
  const digests = Object.fromEntries(Object.entries(TABLES).map(([name, make]) => [name, sha256(ipc(make()))]));
  assert.deepEqual(digests, GOLDEN);
});

test('a dictionary column gets id 0 however many dictionaries the process made before', () => {
  // tableFromArrays takes ids from a process-wide counter, so its bytes depended on what ran earlier in a worker.
  for (let i = 0; i < 3; i++) tableFromArrays({ s: ['a', 'b'] });
  assert.equal(sha256(ipc(curveTable.toTable(F.CURVE))), GOLDEN.curve);
});

test('the tables read back as written', () => {
  assert.deepEqual(weightsFromTable(roundTrip(weightsToTable(F.WEIGHTS))), F.WEIGHTS);
  assert.deepEqual(weightsFromTable(roundTrip(weightsToTable(F.WEIGHTS_INIT))), {
    ...F.WEIGHTS_INIT,
    meta: { ...F.WEIGHTS_INIT.meta, testAccuracy: undefined },
  });
  for (const ds of [F.DATASET_UINT8, F.DATASET_FLOAT, F.DATASET_MIXTURE]) assert.deepEqual(datasetFromTable(roundTrip(datasetToTable(ds))), ds);
  assert.deepEqual(historyTable.fromTable(roundTrip(historyTable.toTable(F.HISTORY, { phase: 'pruned' })), 'h'), F.HISTORY);
  assert.deepEqual(snapshotsFromTable(roundTrip(snapshotsToTable(F.SNAPSHOTS, 'unpruned', 2))), F.SNAPSHOTS);
  assert.deepEqual(curveTable.fromTable(roundTrip(curveTable.toTable(F.CURVE)), 'c'), F.CURVE);
  const labels = labelsTable.columnsOf(roundTrip(labelsTable.toTable(labelColumns(F.LABELS, F.LAYER_SIZES))), 'l');
  assert.deepEqual(labels.label, F.LABELS);
  assert.deepEqual([...labels.layer], [0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 3, 3]);
  assert.deepEqual(submodulesFromTable(roundTrip(submodulesToTable(F.SUBMODULES, { k: '4' }))), F.SUBMODULES);
  assert.deepEqual(trueLesionsFromTable(roundTrip(trueLesionsToTable(F.PLAN_ROWS, F.PLAN_ACCURACY, F.PLAN_CLASS_ACCURACY, 2))), {
    rows: F.PLAN_ROWS,
    accuracy: F.PLAN_ACCURACY,
    classAccuracy: F.PLAN_CLASS_ACCURACY,
    nClasses: 2,
  });
  assert.deepEqual(trialsFromTable(roundTrip(doubleTrialsToTable(F.TRIALS)), 'd'), F.TRIALS);
  assert.deepEqual(trialsFromTable(roundTrip(singleTrialsToTable(SINGLE_TRIALS)), 's'), { ...SINGLE_TRIALS, y: [-1, -1, -1, -1] });
  const single = singleLesionTable.fromTable(roundTrip(singleLesionTable.toTable(F.SINGLE, F.LESION_META)), 's');
  assert.deepEqual(
    single,
    F.SINGLE.map(({ submodule, ...row }) => row),
  );
  const conditional = doubleConditionalTable.fromTable(roundTrip(doubleConditionalTable.toTable(F.CONDITIONAL, F.LESION_META)), 'c');
  assert.deepEqual(
    conditional,
    F.CONDITIONAL.map(({ x, y, ...row }) => row),
  );
  const edges = dependencyEdgesTable.fromTable(roundTrip(dependencyEdgesTable.toTable(dependencyEdgeRows(F.DEPENDENCY), F.LESION_META)), 'e');
  assert.deepEqual(edges, [{ fromLayer: 1, fromCluster: 0, toLayer: 2, toCluster: 1, kind: 'from-unimportant-given-to' }]);
  assert.deepEqual(singleLesionTable.metadataOf(roundTrip(singleLesionTable.toTable(F.SINGLE, F.LESION_META)), 's'), F.LESION_META);
});

test('firstSamples: shards merged by sample index, the first count kept, a gap is an error', () => {
  const shard = (from: number, n: number) =>
    shuffleSamplesTable.toTable({
      sample: Int32Array.from({ length: n }, (_, i) => from + i),
      ncut: Float64Array.from({ length: n }, (_, i) => from + i + 0.5),
    });
  const { samples, ncuts } = firstSamples([shard(3, 3), shard(0, 3)], 5);
  assert.deepEqual([...samples], [0, 1, 2, 3, 4]);
  assert.deepEqual([...ncuts], [0.5, 1.5, 2.5, 3.5, 4.5]);
  assert.throws(() => firstSamples([shard(0, 2), shard(3, 3)], 4), /shuffle-sample shard: sample 2 is missing \(found 3\)/);
  assert.throws(() => firstSamples([shard(0, 2)], 4), /2 samples stored, 4 needed/);
});

test('reading: errors name the source and the column; numbers of any width are read', () => {
  const t = defineTable({ layer: int32, fanIn: int32, kernel: listFloat32, kind: utf8Of(['a', 'b'] as const), accuracy: float64 }, { help: 'see the docs' });
  assert.throws(
    () => t.fromTable(tableFromArrays({ layer: Int32Array.from([0]) }), 'x.arrow'),
    /^Error: x\.arrow: missing column 'fan_in' \(expected layer, fan_in, kernel, kind, accuracy; found layer; see the docs\)$/,
  );
  assert.throws(
    () => weightsFromTable(tableFromArrays({ layer: Int32Array.from([0]) }), 'w.arrow'),
    /w\.arrow: missing column 'fan_in' .*see README "Weights file"/,
  );
  const wrongKind = tableFromArrays({ layer: ['0'], fan_in: Int32Array.from([1]), kernel: Float32Array.from([1]), kind: ['a'], accuracy: [0.5] });
  assert.throws(() => t.fromTable(wrongKind, 'y.arrow'), /y\.arrow: column 'layer' is Dictionary<Int32, Utf8>, expected int32/);
  const withKind = (kind: string) =>
    new Table({
      layer: vectorFromArray(BigInt64Array.from([3n])),
      fan_in: vectorFromArray(Float32Array.from([2])),
      kernel: vectorFromArray([[0.5, 1.5]], new List(new Field('item', new Float64()))),
      kind: vectorFromArray([kind]),
      accuracy: vectorFromArray(Float32Array.from([0.25])),
    });
  const [row] = t.fromTable(withKind('b'), 'z.arrow');
  assert.deepEqual({ ...row, kernel: [...row.kernel] }, { layer: 3, fanIn: 2, kernel: [0.5, 1.5], kind: 'b', accuracy: 0.25 });
  assert.throws(() => t.fromTable(withKind('c'), 'k.arrow'), /k\.arrow: column 'kind': row 0 is 'c', expected one of a, b/);
  assert.throws(
    () => submodulesFromTable(tableFromArrays({ submodule: Int32Array.from([0]) }), 'sub.arrow'),
    /sub\.arrow: schema metadata 'live_layers' is missing/,
  );
});

test('writing: columns must all be given and of one length; metadata keys must be declared', () => {
  const t = defineTable({ a: int32, b: float64, c: int32.optional() }, { metadata: ['m'] });
  assert.throws(() => t.toTable({ a: [1, 2], b: [1] }), /toTable: column 'b' has 1 rows, 'a' has 2/);
  assert.throws(() => t.toTable({ a: [1] } as never), /toTable: column 'b' is missing/);
  assert.throws(() => t.toTable([{ a: 1, b: 2 }], { n: 'x' } as never), /metadata 'n' is not declared/);
  assert.throws(
    () =>
      t.toTable([
        { a: 1, b: 2, c: 3 },
        { a: 1, b: 2 },
      ]),
    /1 of 2 rows lack 'c'/,
  );
  const back = roundTrip(t.toTable([{ a: 1, b: 2 }], { m: 'v' }));
  assert.deepEqual(
    back.schema.fields.map((f) => f.name),
    ['a', 'b'],
  );
  assert.deepEqual(t.fromTable(back, 't'), [{ a: 1, b: 2 }]);
  assert.deepEqual(t.fromTable(roundTrip(t.toTable({ a: [1], b: [2], c: [3] })), 't'), [{ a: 1, b: 2, c: 3 }]);
});
