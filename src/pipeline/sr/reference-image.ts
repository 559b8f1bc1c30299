/**
 * A detailed synthetic picture (text, hard edges, thin lines, gradients, a photo-like soft area) used to
 * compare SR methods in tests and benchmarks: downscale it, upscale back, measure PSNR against it.
 */
import { createCanvas } from '@napi-rs/canvas';
import type { RawImage } from '../../engine/types.js';

export function renderReferenceImage(size = 512): RawImage {
  const canvas = createCanvas(size, size);
  const ctx = canvas.getContext('2d');
  const s = size / 512;
  const grad = ctx.createLinearGradient(0, 0, size, size);
  grad.addColorStop(0, '#1d3557');
  grad.addColorStop(0.5, '#a8dadc');
  grad.addColorStop(1, '#e63946');
  ctx.fillStyle = grad;
  ctx.fillRect(0, 0, size, size);
  const radial = ctx.createRadialGradient(380 * s, 130 * s, 5 * s, 380 * s, 130 * s, 110 * s);
  radial.addColorStop(0, 'rgba(255,240,200,0.95)');
  radial.addColorStop(1, 'rgba(255,240,200,0)');
  ctx.fillStyle = radial;
  ctx.fillRect(0, 0, size, size);
  // Hard edges and checkerboards of several pitches.
  for (let i = 0; i < 8; i++) {
    for (let j = 0; j < 8; j++) {
      if ((i + j) % 2 === 0) {
        ctx.fillStyle = '#111';
        ctx.fillRect(20 * s + i * 12 * s, 20 * s + j * 12 * s, 12 * s, 12 * s);
      }
    }
  }
  ctx.strokeStyle = '#fff';
  for (let i = 0; i < 24; i++) {
    ctx.lineWidth = (1 + (i % 3)) * s;
    ctx.beginPath();
    ctx.moveTo(140 * s + i * 7 * s, 20 * s);
    ctx.lineTo(150 * s + i * 9 * s, 120 * s);
    ctx.stroke();
  }
  ctx.strokeStyle = '#222';
  for (let r = 10; r < 100; r += 8) {
    ctx.lineWidth = 2 * s;
    ctx.beginPath();
    ctx.arc(120 * s, 360 * s, r * s, 0, Math.PI * 2);
    ctx.stroke();
  }
  ctx.fillStyle = '#000';
  ctx.font = `bold ${Math.round(40 * s)}px sans-serif`;
  ctx.fillText('Mengtu SR 2x', 230 * s, 260 * s);
  ctx.fillStyle = '#fff';
  ctx.font = `${Math.round(22 * s)}px sans-serif`;
  ctx.fillText('The quick brown fox jumps', 230 * s, 310 * s);
  ctx.fillText('over the lazy dog 0123456789', 230 * s, 340 * s);
  ctx.font = `${Math.round(14 * s)}px sans-serif`;
  ctx.fillText('small print: sharp edges survive', 230 * s, 380 * s);
  const img = ctx.getImageData(0, 0, size, size);
  return { width: size, height: size, data: new Uint8ClampedArray(img.data) };
}
