import { Document } from '@gltf-transform/core';

import type { DecodedImage } from './image-input.js';
import type { TexturedGeometry } from './image-relief.js';

// glTF sampler constants (WebGL enums).
const LINEAR = 9729;
const LINEAR_MIPMAP_LINEAR = 9987;
const CLAMP_TO_EDGE = 33071;

/**
 * A glTF document of one textured mesh: the image embedded as a PNG, the base-colour texture of a
 * metallic-roughness material, sampled with linear filtering and clamped at the edges.
 */
export function documentOfRelief(geometry: TexturedGeometry, image: DecodedImage, title: string): Document {
  const document = new Document();
  document.getRoot().getAsset().generator = 'gen3d reference generator (procedural, not a neural model)';
  const buffer = document.createBuffer();
  const texture = document
    .createTexture('image')
    .setImage(image.png)
    .setMimeType('image/png')
    .setURI('image.png');
  const material = document
    .createMaterial('image')
    .setBaseColorFactor([1, 1, 1, 1])
    .setBaseColorTexture(texture)
    .setRoughnessFactor(0.8)
    .setMetallicFactor(0);
  material
    .getBaseColorTextureInfo()
    ?.setMagFilter(LINEAR)
    .setMinFilter(LINEAR_MIPMAP_LINEAR)
    .setWrapS(CLAMP_TO_EDGE)
    .setWrapT(CLAMP_TO_EDGE);
  const accessor = (type: 'VEC2' | 'VEC3' | 'SCALAR', array: Float32Array | Uint32Array) =>
    document.createAccessor().setType(type).setArray(array).setBuffer(buffer);
  const primitive = document
    .createPrimitive()
    .setAttribute('POSITION', accessor('VEC3', new Float32Array(geometry.positions)))
    .setAttribute('NORMAL', accessor('VEC3', new Float32Array(geometry.normals)))
    .setAttribute('TEXCOORD_0', accessor('VEC2', new Float32Array(geometry.uvs)))
    .setIndices(accessor('SCALAR', new Uint32Array(geometry.indices)))
    .setMaterial(material);
  const mesh = document.createMesh('relief').addPrimitive(primitive);
  document.createScene(title).addChild(document.createNode('relief').setMesh(mesh));
  return document;
}
