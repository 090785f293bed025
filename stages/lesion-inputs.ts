/**
 * What the lesion stages share: their matrix (params `lesion.networks`), where a network's
 * pruned weights and test images come from, and reading them.
 */
import type { Axes, InputInstance, InputSpec } from '../engine/types.ts';
import { datasetFromTable } from '../science/datasets/table.ts';
import { weightsFromTable, type DenseLayer } from '../science/weights.ts';
import type { TestSet } from '../science/lesion/evaluate.ts';
import { submodulesFromTable, type SubmoduleSet } from '../science/lesion/index.ts';
import { trainConditions } from './conditions.ts';
import type { LesionParams } from './params/lesion.ts';

/** One instance per network in `lesion.networks`, checked against the trained networks. */
export function lesionMatrix(params: { lesion: LesionParams; train?: unknown }): Axes[] {
  const trained = params.train ? new Set(trainConditions(params).map((c) => JSON.stringify([c.dataset, c.dropout, c.run]))) : undefined;
  const seen = new Set<string>();
  return params.lesion.networks.map((n, i) => {
    const id = JSON.stringify([n.dataset, n.dropout, n.run]);
    if (trained && !trained.has(id))
      throw new Error(
        `params lesion.networks[${i}] = {dataset: ${n.dataset}, dropout: ${n.dropout}, run: ${n.run}} is not a trained network (train.datasets × train.dropout × train.runs); add it there or remove it here`,
      );
    if (seen.has(id)) throw new Error(`params lesion.networks[${i}] repeats {dataset: ${n.dataset}, dropout: ${n.dropout}, run: ${n.run}}`);
    seen.add(id);
    return { dataset: n.dataset, dropout: n.dropout, run: n.run };
  });
}

/** The pruned network's weights (stage `export`) and its dataset (stage `datasets`). */
export function networkInputs(axes: Axes, source: string): InputSpec[] {
  return [
    { stage: 'export', where: { dataset: axes.dataset, dropout: axes.dropout, run: axes.run, phase: 'pruned' }, outputs: ['weights'] },
    { stage: 'datasets', where: { dataset: source }, outputs: ['table'] },
  ];
}

function only(inputs: Readonly<Record<string, readonly InputInstance[]>>, stage: string): InputInstance {
  const list = inputs[stage];
  if (!list || list.length !== 1) throw new Error(`lesion: expected one instance of stage '${stage}' as input, got ${list?.length ?? 0}`);
  return list[0];
}

export async function loadNetwork(inputs: Readonly<Record<string, readonly InputInstance[]>>): Promise<{ layers: DenseLayer[]; test: TestSet }> {
  const weights = only(inputs, 'export');
  const { layers } = weightsFromTable(await weights.outputs.weights.table(), `pruned weights (export ${JSON.stringify(weights.axes)})`);
  const ds = datasetFromTable(await only(inputs, 'datasets').outputs.table.table());
  if (ds.test.labels.length === 0) throw new Error(`dataset ${ds.name}: the test split is empty`);
  if (ds.test.images.length !== ds.test.labels.length * layers[0].fanIn)
    throw new Error(
      `dataset ${ds.name}: test images have ${ds.test.images.length / ds.test.labels.length} values each, but the network takes ${layers[0].fanIn} inputs`,
    );
  return { layers, test: { images: ds.test.images, labels: ds.test.labels } };
}

export async function loadSubmodules(inputs: Readonly<Record<string, readonly InputInstance[]>>): Promise<SubmoduleSet> {
  return submodulesFromTable(await only(inputs, 'lesion-modules').outputs.submodules.table(), 'lesion-modules submodules');
}

export { only as onlyInput };
