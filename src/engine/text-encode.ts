/** Running a CLIP text encoder over prompts padded to the tokenizer's length (batched when the graph allows). */
import type { OnnxGraph } from './onnx-session.js';
import { idsTensor, isDynamic, readFloats } from './onnx-session.js';
import type { ClipTokenizer } from './tokenizer.js';

/** Each of `outputs`, per prompt (in the order given), as float32. */
export async function encodePrompts(graph: OnnxGraph, tokenizer: ClipTokenizer, prompts: readonly string[], outputs: readonly string[]): Promise<Record<string, Float32Array[]>> {
  const info = graph.input('input_ids');
  const L = tokenizer.maxLength;
  const ids = prompts.map((p) => tokenizer.encode(p));
  const res: Record<string, Float32Array[]> = Object.fromEntries(outputs.map((o) => [o, [] as Float32Array[]]));
  if (isDynamic(info, 0) || prompts.length === 1) {
    const all = new Int32Array(L * prompts.length);
    ids.forEach((row, i) => all.set(row, i * L));
    const out = await graph.run({ [info.name]: idsTensor(info.type, all, [prompts.length, L]) }, outputs);
    for (const o of outputs) {
      // float32 outputs are views of the run's own buffer: no copy.
      const flat = readFloats(out[o]!);
      const per = flat.length / prompts.length;
      for (let i = 0; i < prompts.length; i++) res[o]!.push(flat.subarray(i * per, (i + 1) * per));
    }
    return res;
  }
  // A fixed batch of 1: one run per prompt.
  for (const row of ids) {
    const out = await graph.run({ [info.name]: idsTensor(info.type, row, [1, L]) }, outputs);
    for (const o of outputs) res[o]!.push(readFloats(out[o]!));
  }
  return res;
}
