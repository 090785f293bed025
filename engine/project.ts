/** What a project hands the engine: its stages, params schema and extra CLI verbs. */
import type { Command } from 'commander';
import type { ZodType } from 'zod';
import type { StageDef } from './types.ts';

export interface PipelineProject {
  /** Name shown in help and messages (e.g. 'pipeline.ts'). */
  name: string;
  /** Project root: params file, stages and `artifacts/` are relative to it. */
  root: string;
  /** Default params file, relative to root. */
  paramsFile: string;
  paramsSchema: ZodType;
  stages: StageDef[];
  commands?: CommandPlugin[];
}

/**
 * A project verb: registers a sub-command on the program. `project` gives it the root and
 * the stage list; verbs that need params call engine/params.ts themselves.
 */
export type CommandPlugin = (program: Command, project: PipelineProject) => void;
