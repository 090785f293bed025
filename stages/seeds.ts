/**
 * Child seeds of an instance seed (`deriveSeed(ctx.seed, stream)`), one stream per thing drawn,
 * numbered here once for every stage that draws it.
 */

/** Glorot-uniform initial weights: train's networks and export's untrained (`init`) ones. */
export const INIT_SEED = 1;
/** Data order and dropout masks of a training phase: train (unpruned) and prune. */
export const PHASE_SEED = 2;
