import { describe, expect, it } from "vitest";
import { logOfCount } from "../../../shared/metrics/log-count.ts";

// math.log of CPython 3.11 on Debian 12 (glibc 2.36), printed with repr. Math.log of Node 24.21
// is 1 ulp off for 3, 48, 74, 185, 196, 299, 308 and 334.
const GLIBC_LOG: [number, number][] = [
  [1, 0],
  [2, Math.LN2],
  [3, 1.0986122886681098],
  [48, 3.871201010907891],
  [74, 4.30406509320417],
  [185, 5.220355825078324],
  [196, 5.278114659230517],
  [299, 5.700443573390687],
  [308, 5.730099782973574],
  [334, 5.811140992976701],
  [5000, 8.517193191416238],
  [123456789, 18.63140176616802],
  [2147483647, 21.487562596892644],
  [9007199254740991, 36.7368005696771],
];

describe("logOfCount", () => {
  it.each(GLIBC_LOG)("log %d matches glibc", (n, expected) => {
    expect(logOfCount(n)).toBe(expected);
  });

  it("returns the cached value again", () => {
    expect(logOfCount(3)).toBe(logOfCount(3));
    expect(logOfCount(70000)).toBe(logOfCount(70000));
  });

  it("stays within 1 ulp of Math.log", () => {
    for (let n = 1; n <= 20000; n++) {
      const exact = logOfCount(n);
      const approximate = Math.log(n);
      expect(Math.abs(exact - approximate), `log ${n}`).toBeLessThanOrEqual(
        Number.EPSILON * Math.max(1, Math.abs(exact)),
      );
    }
  });

  it("returns -Infinity for 0", () => {
    expect(logOfCount(0)).toBe(Number.NEGATIVE_INFINITY);
  });

  it.each([-1, 1.5, Number.NaN, 2 ** 53])("rejects %d", (n) => {
    expect(() => logOfCount(n)).toThrow(RangeError);
  });
});
