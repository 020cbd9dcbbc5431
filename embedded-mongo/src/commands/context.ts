import type { Document } from 'bson';

import type { Catalog } from '../catalog.js';
import type { CursorRegistry } from '../cursors.js';
import type { ServerStatusSource } from '../server-status.js';

/** What a command handler works with: the data, the cursors and who is asking. */
export interface CommandContext {
  catalog: Catalog;
  cursors: CursorRegistry;
  /** The database the command addresses (`$db`). */
  db: string;
  connectionId: number;
  /** The server's counters and connections, for serverStatus. */
  status: ServerStatusSource;
}

export type CommandHandler = (context: CommandContext, command: Document) => Document;
