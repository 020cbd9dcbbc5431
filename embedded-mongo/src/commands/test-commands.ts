import type { FailCommandPoint } from '../fail-points.js';
import type { CommandHandler } from './context.js';

/** Commands mongod only has with `enableTestCommands=1` (`waitForFailPoint`, which waits, is run by the server). */
export function testCommands(failCommand: FailCommandPoint): Record<string, CommandHandler> {
  return {
    configureFailPoint: (context, command) => failCommand.configure(command, context.db),
  };
}

export const testCommandNames = ['configureFailPoint', 'waitForFailPoint'];
