/**
 * Deterministic Gaussian noise from a 32-bit seed (xoshiro128** + Box–Muller).
 * Same seed → same stream on every machine, so the same request gives the same image.
 */
export interface Rng {
  /** Uniform in [0, 1). */
  uniform(): number;
  /** `n` independent standard-normal samples. */
  normal(n: number): Float32Array;
}

function splitmix32(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x9e3779b9) >>> 0;
    let z = s;
    z = Math.imul(z ^ (z >>> 16), 0x85ebca6b) >>> 0;
    z = Math.imul(z ^ (z >>> 13), 0xc2b2ae35) >>> 0;
    return (z ^ (z >>> 16)) >>> 0;
  };
}

export function createRng(seed: number): Rng {
  const init = splitmix32(seed);
  let a = init(), b = init(), c = init(), d = init();
  if ((a | b | c | d) === 0) a = 1;
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5) >>> 0, 7), 9) >>> 0;
    const t = (b << 9) >>> 0;
    c ^= a; d ^= b; b ^= c; a ^= d; c ^= t; d = rotl(d, 11);
    c >>>= 0; d >>>= 0; b >>>= 0; a >>>= 0;
    return result;
  };
  const uniform = (): number => next() / 4294967296;
  return {
    uniform,
    normal(n: number): Float32Array {
      const out = new Float32Array(n);
      for (let i = 0; i < n; i += 2) {
        // 1 - u keeps the log argument in (0, 1].
        const u1 = 1 - uniform();
        const u2 = uniform();
        const r = Math.sqrt(-2 * Math.log(u1));
        out[i] = r * Math.cos(2 * Math.PI * u2);
        if (i + 1 < n) out[i + 1] = r * Math.sin(2 * Math.PI * u2);
      }
      return out;
    },
  };
}

function rotl(x: number, k: number): number {
  return ((x << k) | (x >>> (32 - k))) >>> 0;
}

/** -1 → a fresh random seed in [0, 2^32-1]; anything else is returned unchanged. */
export function resolveSeed(seed: number): number {
  if (seed !== -1) return seed;
  const buf = new Uint32Array(1);
  globalThis.crypto.getRandomValues(buf);
  return buf[0]!;
}
