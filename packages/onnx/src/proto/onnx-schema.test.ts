import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { describe, expect, it } from 'vitest';
import { ONNX_SCHEMA } from './onnx-schema.js';

interface FieldShape {
  id: number;
  type: string;
  rule?: string;
}

function fieldsOf(root: protobuf.Root, typeName: string): Record<string, FieldShape> {
  const type = root.lookupType(typeName);
  const result: Record<string, FieldShape> = {};
  for (const field of type.fieldsArray) {
    result[field.name] = { id: field.id, type: field.type, ...(field.repeated ? { rule: 'repeated' } : {}) };
  }
  return result;
}

describe('ONNX protobuf schema', () => {
  it('the runtime schema matches the checked-in onnx.proto subset field by field', () => {
    const text = readFileSync(fileURLToPath(new URL('./onnx.proto', import.meta.url)), 'utf8');
    const fromProto = protobuf.parse(text, { keepCase: false }).root;
    const fromJson = protobuf.Root.fromJSON(ONNX_SCHEMA);
    const messages = [
      'AttributeProto',
      'ValueInfoProto',
      'NodeProto',
      'ModelProto',
      'GraphProto',
      'TensorProto',
      'StringStringEntryProto',
      'TensorShapeProto',
      'TensorShapeProto.Dimension',
      'TypeProto',
      'TypeProto.Tensor',
      'OperatorSetIdProto',
    ];
    for (const name of messages) {
      expect(fieldsOf(fromJson, `onnx.${name}`), name).toEqual(fieldsOf(fromProto, `onnx.${name}`));
    }
  });

  it('uses the official onnx.proto field numbers for the fields ONNX Runtime reads', () => {
    // Spot checks against github.com/onnx/onnx onnx/onnx.proto.
    const root = protobuf.Root.fromJSON(ONNX_SCHEMA);
    const id = (type: string, field: string): number => root.lookupType(`onnx.${type}`).fields[field]!.id;
    expect(id('ModelProto', 'irVersion')).toBe(1);
    expect(id('ModelProto', 'graph')).toBe(7);
    expect(id('ModelProto', 'opsetImport')).toBe(8);
    expect(id('GraphProto', 'initializer')).toBe(5);
    expect(id('GraphProto', 'input')).toBe(11);
    expect(id('GraphProto', 'output')).toBe(12);
    expect(id('NodeProto', 'domain')).toBe(7);
    expect(id('AttributeProto', 'type')).toBe(20);
    expect(id('TensorProto', 'rawData')).toBe(9);
    expect(id('TensorProto', 'externalData')).toBe(13);
    expect(id('TensorProto', 'dataLocation')).toBe(14);
    expect(root.lookupEnum('onnx.TensorProto.DataLocation').values['EXTERNAL']).toBe(1);
  });
});
