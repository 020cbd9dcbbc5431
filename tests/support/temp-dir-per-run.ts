import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Vitest global setup: every temporary directory the suite makes (servers' asset and data directories,
 * mail outboxes, logs, deploy copies, the browser's profile) lands in one directory per run, removed when
 * the run ends, so runs leave nothing behind. os.tmpdir() reads TMPDIR, and the test workers and every
 * process they start inherit it.
 */
export default function useTempDirPerRun(): () => void {
  const runDirectory = mkdtempSync(join(tmpdir(), 'gen3d-test-run-'));
  process.env.TMPDIR = runDirectory;
  return () => rmSync(runDirectory, { recursive: true, force: true });
}
