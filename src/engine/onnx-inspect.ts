/** Reads what a (small) ONNX file needs besides itself, without running it; orders weight nodes for onnxruntime. */
import { readFile, writeFile } from 'node:fs/promises';
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

/**
 * Moves the nodes that read only initializers (the weights' DequantizeLinear) to the front of the node list.
 * onnxruntime's execution order is a depth-first walk back from the outputs that visits a node's inputs in
 * descending node index (= position in the file) and emits each when its inputs are done: a weight node
 * placed before its Conv's other input would be emitted before that input's whole subgraph, i.e. at the
 * start of the run, and every expanded weight would be live at once (the fp32 footprint again). At the front
 * it has the lowest index, so it is emitted last among its Conv's inputs, right before the Conv, and its
 * float copy lives for that one Conv. Still a valid ONNX order: such nodes depend on nothing.
 */
export function weightsFirst(nodes: pkg.onnx.INodeProto[], initializers: ReadonlySet<string>): pkg.onnx.INodeProto[] {
  const constant = (n: pkg.onnx.INodeProto): boolean => n.opType === 'DequantizeLinear' && (n.input ?? []).every((i) => i === '' || initializers.has(i));
  return [...nodes.filter(constant), ...nodes.filter((n) => !constant(n))];
}

/**
 * The same for a saved model file (onnxruntime writes its optimized graph in execution order, which puts each
 * weight's DequantizeLinear right before its Conv: loaded again, that order would run them all first).
 * Rewrites the file only when it has such nodes out of place; true when it did.
 */
export async function weightsFirstInFile(file: string): Promise<boolean> {
  const model = onnx.ModelProto.decode(await readFile(file));
  const graph = model.graph;
  if (!graph?.node) return false;
  const reordered = weightsFirst(graph.node, new Set((graph.initializer ?? []).map((t) => t.name ?? '')));
  if (reordered.every((n, i) => n === graph.node![i])) return false;
  graph.node = reordered;
  await writeFile(file, onnx.ModelProto.encode(model).finish());
  return true;
}
