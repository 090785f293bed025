/** Project verbs added to the engine's CLI (each registers a commander sub-command). */
import type { CommandPlugin } from '../engine/project.ts';
import { datasetsCommands } from './datasets.ts';
import { diffCommand } from './diff.ts';
import { ncutCommand } from './ncut.ts';

export const commands: CommandPlugin[] = [
  // each area adds its verbs here
  datasetsCommands,
  diffCommand,
  ncutCommand,
];
