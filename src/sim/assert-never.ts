/** Closes a switch over a union: a missing case is a type error at the call. (The simulator imports nothing upstream.) */
export function assertNever(x: never, what = 'value'): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(x)}`);
}
