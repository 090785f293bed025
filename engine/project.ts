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

/** An option a CommandPlugin adds to engine verbs (by default `repro`), e.g. `--mirror DIR`. */
export interface VerbOption {
  /** Commander flags, e.g. '--mirror <dir>'. */
  flags: string;
  description: string;
  /** Verbs that get the option (default ['repro']). */
  verbs?: string[];
  /**
   * Called before the verb runs with the option's parsed value (undefined when not given),
   * e.g. to set an environment variable; worker threads are started afterwards, so they see it.
   */
  apply(value: unknown, project: PipelineProject): void | Promise<void>;
}

/** From a CommandPlugin: add `option` to engine verbs (they are registered before plugins run). */
export function addVerbOption(program: Command, project: PipelineProject, option: VerbOption): void {
  for (const verb of option.verbs ?? ['repro']) {
    const cmd = program.commands.find((c) => c.name() === verb);
    if (!cmd) throw new Error(`addVerbOption: no verb '${verb}' (engine verbs: ${program.commands.map((c) => c.name()).join(', ')})`);
    cmd.option(option.flags, option.description);
    const attr = cmd.options[cmd.options.length - 1].attributeName();
    cmd.hook('preAction', async (_self, action) => {
      await option.apply(action.opts()[attr], project);
    });
  }
}
