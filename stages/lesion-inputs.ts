/**
 * What the lesion stages share: their matrix (params `lesion.networks`), where a network's
 * weights and test images come from, and reading them. A network is either a study network
 * (its pruned weights from `export`, its test split from `datasets`) or an external MLP file of
 * `external.models` (its weights from `external-model`, its test set a dataset of
 * `datasets.names` or a pair of IDX files whose content digests enter the key).
 */
import { UserError } from '../engine/errors.ts';
import type { Axes, InputInstance, InputSpec } from '../engine/types.ts';
import { MalformedFileError } from '../science/datasets/errors.ts';
import { idxTestSet } from '../science/datasets/idx.ts';
import { datasetFromTable } from '../science/datasets/table.ts';
import type { TestSet } from '../science/lesion/evaluate.ts';
import { submodulesFromTable, type SubmoduleSet } from '../science/lesion/index.ts';
import { normalizedTestSet, type Normalization } from '../science/lesion/test-set.ts';
import { weightsFromTable, type DenseLayer } from '../science/weights.ts';
import { externalModels, externalNetworkAxes, isExternalNetwork, trainConditions, trainingSource } from './conditions.ts';
import { readInputFile, readUnchanged, sha256 } from './input-files.ts';
import type { Params } from './params/index.ts';
import type { LesionExternalNetwork, LesionParams } from './params/lesion.ts';

type Inputs = Readonly<Record<string, readonly InputInstance[]>>;

interface FileRef {
  path: string;
  /** sha256 of the file's bytes. */
  digest: string;
}

/** An external network's lesion settings, as they enter the key. */
interface ExternalLesion {
  model: string;
  testSet: { dataset: string } | { images: FileRef; labels: FileRef };
  normalize?: Normalization;
}

/** The network part of a lesion stage's params: a study network's training source, or an external file. */
export type LesionNetworkParams = { source: string } | { external: ExternalLesion };

const isExternalEntry = (n: LesionParams['networks'][number]): n is LesionExternalNetwork => 'model' in n;

/** One instance per network in `lesion.networks`, checked against the trained networks and the external files. */
export function lesionMatrix(params: { lesion: LesionParams; train?: unknown; external?: unknown; datasets?: { names: readonly string[] } }): Axes[] {
  const trained = params.train ? new Set(trainConditions(params).map((c) => JSON.stringify([c.dataset, c.dropout, c.run]))) : undefined;
  const files = new Set(externalModels(params).map((m) => m.model));
  const seen = new Set<string>();
  return params.lesion.networks.map((n, i) => {
    const where = `params lesion.networks[${i}]`;
    if (isExternalEntry(n)) {
      if (!files.has(n.model))
        throw new Error(`${where}: model '${n.model}' is not a file of external.models (${[...files].join(', ') || 'none'}); add it there`);
      if (typeof n.test_set === 'string' && params.datasets && !params.datasets.names.includes(n.test_set))
        throw new Error(`${where}: test_set '${n.test_set}' is not in datasets.names; add it there, or give IDX files {images, labels}`);
    }
    const axes = isExternalEntry(n) ? externalNetworkAxes(n.model) : { dataset: n.dataset, dropout: n.dropout, run: n.run };
    const id = JSON.stringify(axes);
    if (!isExternalEntry(n) && trained && !trained.has(JSON.stringify([n.dataset, n.dropout, n.run])))
      throw new Error(
        `${where} = {dataset: ${n.dataset}, dropout: ${n.dropout}, run: ${n.run}} is not a trained network (train.datasets × train.dropout × train.runs); add it there or remove it here`,
      );
    if (seen.has(id))
      throw new Error(`${where} repeats ${isExternalEntry(n) ? `model ${n.model}` : `{dataset: ${n.dataset}, dropout: ${n.dropout}, run: ${n.run}}`}`);
    seen.add(id);
    return axes;
  });
}

const fileRef = (key: string, path: string): FileRef => ({ path, digest: sha256(readInputFile(key, path)) });

/** The network part of a lesion instance's key (its study network's source, or its external file's test set). */
export function lesionNetworkParams(p: Params, axes: Axes): LesionNetworkParams {
  if (!isExternalNetwork(axes)) return { source: trainingSource(p.train.overrides, axes) };
  const i = p.lesion.networks.findIndex((n) => isExternalEntry(n) && externalNetworkAxes(n.model).dataset === axes.dataset);
  const n = p.lesion.networks[i] as LesionExternalNetwork;
  const key = `lesion.networks[${i}].test_set`;
  const testSet =
    typeof n.test_set === 'string'
      ? { dataset: n.test_set }
      : { images: fileRef(`${key}.images`, n.test_set.images), labels: fileRef(`${key}.labels`, n.test_set.labels) };
  return { external: { model: n.model, testSet, ...(n.normalize ? { normalize: { ...n.normalize } } : {}) } };
}

/** The network's weights (stage `export` or `external-model`) and its test split (stage `datasets`, unless IDX files). */
export function networkInputs(axes: Axes, p: LesionNetworkParams): InputSpec[] {
  if ('source' in p)
    return [
      { stage: 'export', where: { dataset: axes.dataset, dropout: axes.dropout, run: axes.run, phase: 'pruned' }, outputs: ['weights'] },
      { stage: 'datasets', where: { dataset: p.source }, outputs: ['table'] },
    ];
  const { model, testSet } = p.external;
  return [
    { stage: 'external-model', where: { model }, outputs: ['weights'] },
    ...('dataset' in testSet ? [{ stage: 'datasets', where: { dataset: testSet.dataset }, outputs: ['table'] }] : []),
  ];
}

function only(inputs: Inputs, stage: string): InputInstance {
  const list = inputs[stage];
  if (!list || list.length !== 1) throw new Error(`lesion: expected one instance of stage '${stage}' as input, got ${list?.length ?? 0}`);
  return list[0];
}

async function datasetTestSet(inputs: Inputs): Promise<TestSet & { name: string }> {
  const ds = datasetFromTable(await only(inputs, 'datasets').outputs.table.table());
  if (ds.test.labels.length === 0) throw new Error(`dataset ${ds.name}: the test split is empty`);
  return { name: `dataset ${ds.name}`, images: ds.test.images, labels: ds.test.labels };
}

/** An IDX test set, read now and checked against the digests in the key (the files may have changed since). */
function fileTestSet(refs: { images: FileRef; labels: FileRef }): TestSet & { name: string } {
  const read = (ref: FileRef) => readUnchanged('lesion test set', ref.path, ref.digest);
  try {
    return { name: `test set ${refs.images.path}`, ...idxTestSet(read(refs.images), read(refs.labels), refs.images.path, refs.labels.path) };
  } catch (e) {
    if (e instanceof MalformedFileError) throw new UserError(`lesion test set: ${e.message}`);
    throw e;
  }
}

/** An external model's MLP; refused with the reader's reason when it is not one (external-model's `lesion` metric). */
function externalLayers(inst: InputInstance, model: string, table: Parameters<typeof weightsFromTable>[0]): DenseLayer[] {
  if (inst.metrics.lesion !== 'ok') throw new UserError(`lesion.networks: model '${model}' ${String(inst.metrics.lesion ?? 'cannot be lesioned')}`);
  return weightsFromTable(table, `external-model ${model} weights`).layers;
}

export async function loadNetwork(inputs: Inputs, p: LesionNetworkParams): Promise<{ layers: DenseLayer[]; test: TestSet }> {
  let layers: DenseLayer[];
  let test: TestSet & { name: string };
  if ('source' in p) {
    const weights = only(inputs, 'export');
    layers = weightsFromTable(await weights.outputs.weights.table(), `pruned weights (export ${JSON.stringify(weights.axes)})`).layers;
    test = await datasetTestSet(inputs);
  } else {
    const weights = only(inputs, 'external-model');
    layers = externalLayers(weights, p.external.model, await weights.outputs.weights.table());
    test = 'dataset' in p.external.testSet ? await datasetTestSet(inputs) : fileTestSet(p.external.testSet);
  }
  if (test.images.length !== test.labels.length * layers[0].fanIn)
    throw new UserError(
      `${test.name}: test images have ${test.images.length / test.labels.length} values each, but the network takes ${layers[0].fanIn} inputs`,
    );
  const normalize = 'external' in p ? p.external.normalize : undefined;
  return { layers, test: normalizedTestSet({ images: test.images, labels: test.labels }, normalize) };
}

export async function loadSubmodules(inputs: Inputs): Promise<SubmoduleSet> {
  return submodulesFromTable(await only(inputs, 'lesion-modules').outputs.submodules.table(), 'lesion-modules submodules');
}

export { only as onlyInput };
