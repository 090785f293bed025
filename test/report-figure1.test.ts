/** Figure 1: the layout groups each column by module, keeps isolated neurons apart, draws the heaviest edges, renders as SVG. */
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { clusterWeights } from '../science/cluster/index.ts';
import { renderSvg } from '../science/report/figures.ts';
import { columnPositions, figure1Layout, figure1Spec, heaviestEntries, type Figure1Network } from '../science/report/figure-1.ts';
import { Rng } from '../science/random.ts';

/** A small layered network with two planted modules; inputs 0 and 1 have no weights at all. */
function plantedNetwork(): Figure1Network {
  const sizes = [12, 8, 8, 4];
  const rng = new Rng(3);
  const half = (n: number, i: number) => (i < n / 2 ? 0 : 1);
  const layers = sizes.slice(1).map((fanOut, l) => {
    const fanIn = sizes[l];
    const kernel = new Float32Array(fanIn * fanOut);
    for (let i = 0; i < fanIn; i++)
      for (let j = 0; j < fanOut; j++) {
        if (l === 0 && i < 2) continue;
        kernel[i * fanOut + j] = half(fanIn, i) === half(fanOut, j) ? 0.5 + rng.float() : 0.01 * rng.float();
      }
    return { fanIn, fanOut, kernel };
  });
  const { labels, ncut } = clusterWeights(layers, 2, 42);
  return { dataset: 'planted', dropout: false, run: 0, k: 2, ncut, layers, labels };
}

test('columnPositions: modules are contiguous blocks in module order, isolated neurons last after a wider gap', () => {
  const labels = Int32Array.from([1, -1, 0, 1, 0, -1, 1]);
  const y = columnPositions(labels, 2);
  const order = [...labels.keys()].sort((a, b) => y[a] - y[b]).map((i) => labels[i]);
  assert.deepEqual(order, [0, 0, 1, 1, 1, -1, -1]);
  assert.ok(Math.min(...y) >= 0 && Math.max(...y) <= 1 + 1e-12);
  const sorted = [...y].sort((a, b) => a - b);
  const steps = sorted.slice(1).map((v, i) => v - sorted[i]);
  const within = Math.min(...steps);
  // Between modules 0|1 and before the isolated block the step is larger than within a module.
  assert.ok(steps[1] > within * 1.5, 'gap between modules');
  assert.ok(steps[4] > steps[1], 'the isolated block is set further apart than a module');
});

test('heaviestEntries keeps the given share of the non-zero entries, the largest |w|, ties by index', () => {
  const k = Float32Array.from([0, -5, 1, 0, 3, -3, 2, 0, 0, 4]);
  // 6 non-zero → 3 kept: |−5| (index 1), 4 (index 9), then 3 at index 4 wins the tie with −3 at index 5.
  assert.deepEqual(heaviestEntries(k, 0.5), [1, 4, 9]);
  assert.deepEqual(heaviestEntries(k, 0.01), [1]);
  assert.deepEqual(heaviestEntries(new Float32Array(4), 0.5), []);
});

test('figure1Layout: one node per neuron, edges only where weights are non-zero, coloured by module when both ends agree', () => {
  const net = plantedNetwork();
  const layout = figure1Layout(net, 0.25);
  assert.equal(layout.nodes.length, net.labels.length);
  assert.deepEqual(layout.columnSizes, [12, 8, 8, 4]);
  // The two weightless inputs are isolated and placed below every live input.
  const inputs = layout.nodes.filter((n) => n.column === 0);
  const isolated = inputs.filter((n) => n.module === -1);
  assert.equal(isolated.length, 2);
  assert.ok(Math.min(...isolated.map((n) => n.y)) > Math.max(...inputs.filter((n) => n.module >= 0).map((n) => n.y)));
  // Per layer, 25 % of its non-zero weights, all heavier than any weight left out.
  net.layers.forEach((layer, c) => {
    const drawn = layout.edges.filter((e) => e.column === c);
    const nonzero = [...layer.kernel].filter((w) => w !== 0).map(Math.abs);
    assert.equal(drawn.length, Math.round(0.25 * nonzero.length));
    const lightestDrawn = Math.min(...drawn.map((e) => e.weight));
    const heavierLeftOut = nonzero.filter((w) => w > lightestDrawn).length;
    assert.ok(heavierLeftOut <= drawn.length);
  });
  // The planted modules are found, so the heaviest edges all run inside one module.
  assert.ok(layout.edges.every((e) => e.module >= 0));
});

test('figure1Spec renders to a valid SVG with one dot per neuron, and the same input gives the same bytes', async () => {
  const net = plantedNetwork();
  const spec = figure1Spec(net, figure1Layout(net, 0.25), 'Figure 1: planted');
  const svg = await renderSvg(spec);
  assert.match(svg, /^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"/);
  assert.ok(svg.trimEnd().endsWith('</svg>'));
  const dots = svg.match(/<path[^>]*aria-roledescription="circle"/g) ?? [];
  assert.equal(dots.length, net.labels.length, 'one dot per neuron');
  assert.match(svg, /module 1/);
  assert.match(svg, /isolated/);
  assert.equal(await renderSvg(figure1Spec(net, figure1Layout(net, 0.25), 'Figure 1: planted')), svg);
});
