/** A mesh file that cannot be used: unparseable, empty, or inconsistent. */
export class InvalidMeshError extends Error {
  constructor(format: string, reason: string) {
    super(`Invalid ${format}: ${reason}`);
    this.name = 'InvalidMeshError';
  }

  /** The refusal a worker thread reported, by its message (errors lose their class between threads). */
  static fromMessage(message: string): InvalidMeshError {
    const error = new InvalidMeshError('', '');
    error.message = message;
    return error;
  }
}

export interface MeshStats {
  vertices: number;
  triangles: number;
  bbox: { min: [number, number, number]; max: [number, number, number] };
}

/** Collects counts and a bounding box while a mesh is walked. */
export class StatsCollector {
  constructor(private readonly format: string) {}

  vertices = 0;
  triangles = 0;
  private readonly min: [number, number, number] = [Infinity, Infinity, Infinity];
  private readonly max: [number, number, number] = [-Infinity, -Infinity, -Infinity];

  addVertex(x: number, y: number, z: number): void {
    if (!Number.isFinite(x) || !Number.isFinite(y) || !Number.isFinite(z))
      throw new InvalidMeshError(this.format, `vertex ${this.vertices} is not at a finite position`);
    this.vertices += 1;
    const { min, max } = this;
    if (x < min[0]) min[0] = x;
    if (x > max[0]) max[0] = x;
    if (y < min[1]) min[1] = y;
    if (y > max[1]) max[1] = y;
    if (z < min[2]) min[2] = z;
    if (z > max[2]) max[2] = z;
  }

  /** The figures; an empty mesh has a zero box. */
  result(): MeshStats {
    if (this.vertices === 0)
      return { vertices: 0, triangles: this.triangles, bbox: { min: [0, 0, 0], max: [0, 0, 0] } };
    return {
      vertices: this.vertices,
      triangles: this.triangles,
      bbox: { min: [...this.min], max: [...this.max] },
    };
  }

  /** The figures of a file that must hold triangles. */
  finish(): MeshStats {
    if (this.vertices === 0 || this.triangles === 0)
      throw new InvalidMeshError(this.format, 'it holds no triangles');
    return this.result();
  }
}
