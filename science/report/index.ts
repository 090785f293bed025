/** The report: paper values, tables, figures, metrics.json, and the diff between two reports. */
export * from './records.ts';
export * from './options.ts';
export * from './metrics.ts';
export { buildReport, type BuiltReport } from './build.ts';
export { renderSvg } from './figures.ts';
export { welchTTest, benjaminiHochberg } from './stats.ts';
export { diffReports, formatDiff, type DiffResult } from './diff.ts';
