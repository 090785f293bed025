/**
 * The pipeline's command line: `npx tsx pipeline.ts <verb> ...` (see README).
 * The engine provides the generic verbs (repro, status, dag, gc, verify); this project adds
 * its stages, its params schema and its own verbs (cli/).
 */
import { fileURLToPath } from 'node:url';
import { dirname } from 'node:path';
import { runCli } from './engine/cli.ts';
import { stages } from './stages/index.ts';
import { paramsSchema } from './stages/params/index.ts';
import { commands } from './cli/index.ts';

await runCli({
  name: 'pipeline.ts',
  root: dirname(fileURLToPath(import.meta.url)),
  paramsFile: 'params.yaml',
  paramsSchema,
  stages,
  commands,
});
