/** Reads what a (small) ONNX file needs besides itself, without running it. */
import pkg from 'onnx-proto';

const { onnx } = pkg;

/** Locations of the external data files an encoded model refers to (empty when all data is inline). */
export function externalDataLocations(modelBytes: Uint8Array): string[] {
  const model = onnx.ModelProto.decode(modelBytes);
  const out = new Set<string>();
  for (const t of model.graph?.initializer ?? []) {
    if (t.dataLocation !== onnx.TensorProto.DataLocation.EXTERNAL) continue;
    for (const kv of t.externalData ?? []) if (kv.key === 'location' && kv.value) out.add(kv.value);
  }
  return [...out];
}
