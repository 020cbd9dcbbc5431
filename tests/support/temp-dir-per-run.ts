import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest global setup: the temporary directories the suite makes (servers' asset and data directories, mail
 * outboxes, logs, deploy copies, the browser's profile) land in one directory per run, removed when the run
 * ends. os.tmpdir() reads TMPDIR; the test workers inherit it, and so do the processes they start with their
 * environment (those started with only PATH and HOME make no temporary directories).
 */
export default function useTempDirPerRun(): () => void {
  const runDirectory = mkdtempSync(join(tmpdir(), 'gen3d-test-run-'));
  process.env.TMPDIR = runDirectory;
  // A process a failed test left running may still be writing into it.
  return () => rmSync(runDirectory, { recursive: true, force: true, maxRetries: 3 });
}
