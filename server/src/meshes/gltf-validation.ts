import { createRequire } from 'node:module';

import { InvalidMeshError } from './mesh-stats.js';

/** The part of Khronos' validator report this module reads (the package ships no types). */
interface ValidationReport {
  issues: {
    numErrors: number;
    messages: Array<{ code: string; message: string; severity: number; pointer?: string; offset?: number }>;
  };
}

interface GltfValidator {
  validateBytes(
    data: Uint8Array,
    options: { maxIssues: number; format?: 'glb' | 'gltf' },
  ): Promise<ValidationReport>;
}

const requireHere = createRequire(import.meta.url);

const SEVERITY_ERROR = 0;
const MAX_ISSUES = 100;

/** Runs Khronos' glTF Validator over a GLB file; any error-level issue throws InvalidMeshError naming the first. */
export async function validateGlb(bytes: Uint8Array): Promise<void> {
  // Required at the first GLB (then from require's cache): the validator, compiled from Dart to CommonJS,
  // holds megabytes a process that never validates (the reference model server's writer) need not load.
  const validator = requireHere('gltf-validator') as GltfValidator;
  let report: ValidationReport;
  try {
    report = await validator.validateBytes(bytes, { maxIssues: MAX_ISSUES, format: 'glb' });
  } catch (error) {
    throw new InvalidMeshError(
      'GLB',
      `the glTF validator could not read it (${String(error).slice(0, 200)})`,
    );
  }
  if (report.issues.numErrors === 0) return;
  const first = report.issues.messages.find((issue) => issue.severity === SEVERITY_ERROR);
  const where = first?.pointer ?? (first?.offset === undefined ? '' : `byte ${first.offset}`);
  const detail = first
    ? `${first.code}: ${first.message}${where ? ` (at ${where})` : ''}`
    : 'see the validator report';
  throw new InvalidMeshError(
    'GLB',
    `the Khronos glTF validator found ${report.issues.numErrors} error${report.issues.numErrors === 1 ? '' : 's'}; first: ${detail}`,
  );
}
