import type { Command } from '../command';
import { syncCheckCommand } from '../sync-check';
import { keysCommands } from './keys';
import { localCommands } from './local';
import { loginCommands } from './login';
import { memoryCommands } from './memory';
import { resourceCommands } from './resources';
import { tasksCommands } from './tasks';
import { workflowCommands } from './workflow';

/**
 * Every friendly command, in the order `ora help` lists them. Adding a command is one entry here
 * (a `Command` from its own module); `ora <domain.action>` covers every API action without one.
 */
export const commands: Command[] = [
  ...tasksCommands,
  ...workflowCommands,
  ...memoryCommands,
  syncCheckCommand,
  ...resourceCommands,
  ...localCommands,
  ...keysCommands,
  ...loginCommands,
];
