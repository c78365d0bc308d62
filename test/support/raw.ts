/**
 * A function as a test calls it: with its first argument raw, as BMW, a user or a file may hand it over (partial,
 * null, of the wrong shape), which is what the test checks the function survives. Types only: `f as Raw<typeof f>`.
 */
export type Raw<F> = F extends (first: any, ...rest: infer R) => infer O ? (raw: unknown, ...rest: R) => O : never;
