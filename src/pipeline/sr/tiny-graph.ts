/**
 * A tiny ×2 SR graph for tests and benchmarks: bilinear Resize ×2, then a residual 3×3 convolution with
 * fixed pseudo-random weights near zero (so the output stays near the bilinear image but every pixel
 * depends on its neighbours — which is what makes tile seams observable).
 */
import { createRng } from '../../engine/rng.js';
import { GraphBuilder } from '../../engine/onnx-builder.js';

/** `fixedSize`: declare a fixed square input (as some exports do) instead of symbolic dims. */
export function buildTinySrGraph(seed = 7, fixedSize?: number): Uint8Array {
  const rng = createRng(seed);
  const g = new GraphBuilder('tiny-sr-x2');
  const x = g.input('lr', 'float32', [1, 3, fixedSize ?? 'h', fixedSize ?? 'w']);
  const up = g.node('Resize', [x, '', g.floats([1, 1, 2, 2])], {
    mode: 'linear',
    coordinate_transformation_mode: 'half_pixel',
  });
  const k = new Float32Array(3 * 3 * 3 * 3);
  for (let i = 0; i < k.length; i++) k[i] = (rng.uniform() - 0.5) * 0.006;
  const conv = g.node('Conv', [up, g.weight(k, [3, 3, 3, 3]), g.floats([0.002, -0.001, 0.001])], {
    kernel_shape: [3, 3],
    pads: [1, 1, 1, 1],
  });
  g.node('Add', [up, conv], {}, 'hr');
  g.output('hr', 'float32', [1, 3, fixedSize ? fixedSize * 2 : 'h2', fixedSize ? fixedSize * 2 : 'w2']);
  return g.encode(13).model;
}
