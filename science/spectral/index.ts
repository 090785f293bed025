/** Spectral clustering pieces: eigensolvers, the sklearn-semantics embedding, k-means. */
export { symmetricEigen, type DenseEigen } from './dense.ts';
export { largestEigenpairs, EigensolverError, type SymmetricOperator, type LanczosOptions, type LanczosResult } from './lanczos.ts';
export { spectralEmbedding, type SpectralEmbedding, type EmbeddingOptions } from './embedding.ts';
export { kmeans, kmeansPlusPlus, type KMeansOptions, type KMeansResult } from './kmeans.ts';
