// The weights and required flags of schemas/indicators/rcep-b2b-web-1.json, in catalogue
// order: the score a badge carries must be the weighted mean of its indicators. Copied
// rather than bundled to keep the script small; test/catalogue.test.js checks the copy.

export const INDICATORS = [
  [12, true],
  [8, true],
  [12, true],
  [10, true],
  [6, true],
  [10, true],
  [6, true],
  [8, true],
  [10, true],
  [6, true],
  [6, true],
  [6, true],
];

/** Weighted mean of the normalised scores, rounded half up, as the core computes it. */
export function overall(ind) {
  let sum = 0;
  let weights = 0;
  INDICATORS.forEach(([w], i) => {
    sum += w * ind[i];
    weights += w;
  });
  return Math.floor((2 * sum + weights) / (2 * weights));
}

export const requiredPass = (ind) => INDICATORS.every(([, required], i) => !required || ind[i] >= 60);
