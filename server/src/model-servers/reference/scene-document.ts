import { Document } from '@gltf-transform/core';

import { buildPrimitive } from './primitives.js';
import type { Scene } from './prompt-scene.js';

/** A glTF document with one node per shape and one material per colour. */
export function documentOfScene(scene: Scene, title: string): Document {
  const document = new Document();
  document.getRoot().getAsset().generator = 'gen3d reference generator (procedural, not a neural model)';
  const buffer = document.createBuffer();
  const root = document.createScene(title);
  const materials = new Map<string, ReturnType<Document['createMaterial']>>();
  scene.shapes.forEach((shape, index) => {
    const geometry = buildPrimitive(shape.kind, scene.detail);
    let material = materials.get(shape.colorName);
    if (!material) {
      material = document
        .createMaterial(shape.colorName)
        .setBaseColorFactor([...shape.color, 1])
        .setRoughnessFactor(0.7)
        .setMetallicFactor(0);
      materials.set(shape.colorName, material);
    }
    const primitive = document
      .createPrimitive()
      .setAttribute(
        'POSITION',
        document
          .createAccessor()
          .setType('VEC3')
          .setArray(new Float32Array(geometry.positions))
          .setBuffer(buffer),
      )
      .setAttribute(
        'NORMAL',
        document
          .createAccessor()
          .setType('VEC3')
          .setArray(new Float32Array(geometry.normals))
          .setBuffer(buffer),
      )
      .setIndices(
        document
          .createAccessor()
          .setType('SCALAR')
          .setArray(new Uint32Array(geometry.indices))
          .setBuffer(buffer),
      )
      .setMaterial(material);
    const mesh = document.createMesh(`${shape.colorName}_${shape.kind}_${index}`).addPrimitive(primitive);
    const half = shape.turn / 2;
    root.addChild(
      document
        .createNode(`${shape.kind}_${index}`)
        .setMesh(mesh)
        .setTranslation(shape.position)
        .setRotation([0, Math.sin(half), 0, Math.cos(half)])
        .setScale(shape.scale),
    );
  });
  return document;
}
