/**
 * What the Section 3.2 claims share: the random-data conditions (Tables 2–4), named through
 * `report.datasets` (the kilo-epoch runs are a training variant with a dataset name of their own).
 */
import type { ReportOptions } from '../options.ts';
import { PAPER_RANDOM_EXPERIMENTS, type PaperRandomRow } from '../paper.ts';
import type { NetworkRecord } from '../records.ts';
import { conditionKey, conditionLabel, type NetworkIndex } from '../tables.ts';

export type RandomExperiment = keyof typeof PAPER_RANDOM_EXPERIMENTS;

export interface RandomCondition {
  readonly experiment: RandomExperiment;
  readonly dataset: string;
  readonly dropout: boolean;
  readonly key: string;
  readonly label: string;
  readonly unpruned: readonly NetworkRecord[];
  readonly pruned: readonly NetworkRecord[];
  /** The paper's row (its tables are at k = 4 only). */
  readonly paper: PaperRandomRow | undefined;
}

/** The conditions of `experiments` with networks clustered at k, with and without dropout. */
export function randomConditions(index: NetworkIndex, k: number, o: ReportOptions, experiments: readonly RandomExperiment[]): RandomCondition[] {
  return experiments.flatMap((experiment) =>
    [false, true].map((dropout) => {
      const dataset = o.datasets[experiment];
      return {
        experiment,
        dataset,
        dropout,
        key: conditionKey(dataset, dropout),
        label: `${conditionLabel(dataset, dropout)} (${PAPER_RANDOM_EXPERIMENTS[experiment].source})`,
        unpruned: index.get(dataset, dropout, 'unpruned', k),
        pruned: index.get(dataset, dropout, 'pruned', k),
        paper: k === 4 ? PAPER_RANDOM_EXPERIMENTS[experiment].rows.find((r) => r.dropout === dropout) : undefined,
      };
    }),
  );
}

/**
 * A claim that holds per condition: holds when it holds in every condition judged, does not
 * hold when in none, mixed otherwise.
 */
export function perConditionVerdict(holds: readonly boolean[], what: string, reason: string) {
  if (!holds.length) return { kind: 'not testable' as const, reason };
  const holding = holds.filter(Boolean).length;
  const kind = holding === holds.length ? ('holds' as const) : holding === 0 ? ('does not hold' as const) : ('mixed' as const);
  return { kind, detail: `${what} in ${holding} of ${holds.length} conditions`, tested: holds.length, holding };
}
