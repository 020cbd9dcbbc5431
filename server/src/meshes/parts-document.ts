import { Document } from '@gltf-transform/core';

import type { MeshPart } from './mesh-parts.js';

/** A glTF document holding the parts (already in world space): one node, mesh and material per part. */
export function documentOfParts(parts: MeshPart[]): Document {
  const document = new Document();
  const buffer = document.createBuffer();
  const scene = document.createScene('scene');
  const materials = new Map<string, ReturnType<Document['createMaterial']>>();
  parts.forEach((part, index) => {
    let material = materials.get(part.materialName);
    if (!material) {
      material = document
        .createMaterial(part.materialName)
        .setBaseColorFactor([...part.color, 1])
        .setMetallicFactor(0)
        .setRoughnessFactor(0.7);
      materials.set(part.materialName, material);
    }
    const primitive = document
      .createPrimitive()
      .setAttribute(
        'POSITION',
        document.createAccessor().setType('VEC3').setArray(part.positions).setBuffer(buffer),
      )
      .setIndices(document.createAccessor().setType('SCALAR').setArray(part.indices).setBuffer(buffer))
      .setMaterial(material);
    if (part.normals)
      primitive.setAttribute(
        'NORMAL',
        document.createAccessor().setType('VEC3').setArray(part.normals).setBuffer(buffer),
      );
    const mesh = document.createMesh(`part_${index}`).addPrimitive(primitive);
    scene.addChild(document.createNode(`part_${index}`).setMesh(mesh));
  });
  return document;
}
