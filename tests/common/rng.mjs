// A small deterministic random generator for the JS test suites (mulberry32): the same seed gives the same
// sequence, so a failing round of a randomised test can be run again. Returns numbers in [0, 1).
export function rng(seed) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
