/**
 * Lesion experiments (paper §4): sub-modules, lesions, fast batched evaluation, random
 * controls, statistics, taxonomy, double lesions (joint and conditional), δ and the
 * dependency graph. Pure functions; the stages in stages/lesion*.ts wire them to the cache.
 */
export * from './lesion.ts';
export * from './evaluate.ts';
export * from './submodules.ts';
export * from './stats.ts';
export * from './taxonomy.ts';
export * from './experiments.ts';
export * from './tables.ts';
export * from './analysis.ts';
export * from './trials.ts';
