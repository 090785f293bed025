/**
 * Seeded pseudo-random numbers for all science code.
 *
 * Generator: xoshiro128** (Blackman & Vigna, "Scrambled linear pseudorandom number
 * generators", 2018), 32-bit arithmetic so it stays fast in JavaScript; its 128-bit state is
 * filled from the seed with splitmix32-style mixing (Steele, Lea & Flood 2014, 32-bit variant),
 * as the xoshiro authors recommend. Every consumer takes its seed explicitly; nothing reads a
 * global generator, so the same seed always gives the same numbers on every platform.
 */

/** Largest seed + 1: seeds are integers in [0, 2^53). */
export const SEED_LIMIT = 2 ** 53;

function mix32(x: number): number {
  x = Math.imul(x ^ (x >>> 16), 0x85ebca6b);
  x = Math.imul(x ^ (x >>> 13), 0xc2b2ae35);
  return (x ^ (x >>> 16)) >>> 0;
}

export class Rng {
  private s0: number;
  private s1: number;
  private s2: number;
  private s3: number;

  constructor(seed: number) {
    if (!Number.isSafeInteger(seed) || seed < 0) throw new RangeError(`Rng seed must be an integer in [0, 2^53), got ${seed}`);
    const lo = seed >>> 0;
    const hi = Math.floor(seed / 2 ** 32) >>> 0;
    let z = (lo ^ 0x9e3779b9) >>> 0;
    const next = () => {
      z = (z + 0x9e3779b9) >>> 0;
      return mix32(z ^ Math.imul(hi, 0x27d4eb2f));
    };
    this.s0 = next();
    this.s1 = next();
    this.s2 = next();
    this.s3 = next();
    if ((this.s0 | this.s1 | this.s2 | this.s3) === 0) this.s0 = 1; // the all-zero state is a fixed point
  }

  /** A uniform 32-bit unsigned integer. */
  nextUint32(): number {
    const result = Math.imul(rotl(Math.imul(this.s1, 5), 7), 9) >>> 0;
    const t = this.s1 << 9;
    this.s2 ^= this.s0;
    this.s3 ^= this.s1;
    this.s1 ^= this.s2;
    this.s0 ^= this.s3;
    this.s2 ^= t;
    this.s3 = rotl(this.s3, 11);
    return result;
  }

  /**
   * out[t] = a uniform integer in [0, first + step·t) for t = 0, 1, …: the draws of a Fisher–Yates
   * shuffle, bit-identical to calling `below` (cluster/shuffle.ts: Lemire's multiply-and-reject on
   * 32 bits) once per entry, but with the generator in local variables (a method call per draw cost
   * ≈ 4 ns; the paper's shuffles take ~10⁵ draws per sample). Every bound must be in [1, 2^21].
   */
  belowSequence(out: Int32Array, first: number, step: number): void {
    let s0 = this.s0 | 0,
      s1 = this.s1 | 0,
      s2 = this.s2 | 0,
      s3 = this.s3 | 0;
    for (let t = 0; t < out.length; t++) {
      const n = first + step * t;
      if (!(n >= 1 && n <= 2 ** 21)) throw new RangeError(`belowSequence: bound ${n} at ${t} is outside [1, 2^21]`);
      let x = 0;
      // Accept x when the low 32 bits of x·n reach (2^32 − n) mod n (< n, so low ≥ n always accepts
      // and the modulo is only needed in the rare other case).
      for (;;) {
        const r = Math.imul(s1, 5);
        x = Math.imul((r << 7) | (r >>> 25), 9) >>> 0;
        const u = s1 << 9;
        s2 ^= s0;
        s3 ^= s1;
        s1 ^= s2;
        s0 ^= s3;
        s2 ^= u;
        s3 = (s3 << 11) | (s3 >>> 21);
        const low = Math.imul(x, n) >>> 0;
        if (low >= n || low >= (4294967296 - n) % n) break;
      }
      out[t] = ((x * n) / 4294967296) | 0;
    }
    this.s0 = s0 >>> 0;
    this.s1 = s1 >>> 0;
    this.s2 = s2 >>> 0;
    this.s3 = s3 >>> 0;
  }

  /** A uniform double in [0, 1) with 53 random bits. */
  float(): number {
    const a = this.nextUint32() >>> 5; // 27 bits
    const b = this.nextUint32() >>> 6; // 26 bits
    return (a * 67108864 + b) / 9007199254740992;
  }

  /** A uniform integer in [0, n) without modulo bias (Lemire's rejection on 32 bits), n ≤ 2^32. */
  int(n: number): number {
    if (!(n > 0 && n <= 2 ** 32)) throw new RangeError(`Rng.int bound must be in (0, 2^32], got ${n}`);
    if (n > 2 ** 31) return Math.floor(this.float() * n);
    const limit = 2 ** 32 - (2 ** 32 % n);
    let x: number;
    do x = this.nextUint32();
    while (x >= limit);
    return x % n;
  }

  /** A standard normal deviate (Box–Muller, one value per call; the pair's second is dropped for simplicity). */
  normal(): number {
    let u = 0;
    while (u === 0) u = this.float();
    return Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * this.float());
  }

  /** In-place Fisher–Yates shuffle of the first `length` entries (default: all). */
  shuffle<T extends { length: number; [i: number]: any }>(array: T, length = array.length): T {
    for (let i = length - 1; i > 0; i--) {
      const j = this.int(i + 1);
      const tmp = array[i];
      array[i] = array[j];
      array[j] = tmp;
    }
    return array;
  }

  /** A random permutation of 0..n-1. */
  permutation(n: number): Int32Array {
    const p = new Int32Array(n);
    for (let i = 0; i < n; i++) p[i] = i;
    return this.shuffle(p);
  }

  /** A fresh seed for a child generator. */
  seed(): number {
    return (this.nextUint32() >>> 11) * 4294967296 + this.nextUint32();
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** Derive a child seed from a seed and a path of integers (e.g. (runSeed, step)): stable and well mixed. */
export function deriveSeed(seed: number, ...path: number[]): number {
  let lo = seed >>> 0;
  let hi = Math.floor(seed / 2 ** 32) >>> 0;
  for (const p of path) {
    const plo = p >>> 0;
    const phi = Math.floor(p / 2 ** 32) >>> 0;
    lo = mix32(lo ^ mix32(plo + 0x9e3779b9));
    hi = mix32(hi ^ mix32(phi ^ lo ^ 0x7f4a7c15));
  }
  return (hi >>> 11) * 4294967296 + lo;
}
