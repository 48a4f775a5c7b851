// Runtime checks for what arrives from the wire: each returns the value, typed, or throws an Error
// naming the field (`data.worker.cols must be a number, got "120"`). A few combinators rather than a
// schema library: no dependency, and `Shape<T>` makes the compiler hold each check to its interface.

export type Check<T> = (value: unknown, path: string) => T;

/** A field that may be absent. Null is not absence: the sidecar omits null fields, never sends them. */
export interface Optional<T> {
  readonly optional: Check<T>;
}

/**
 * One check per field of T, optional exactly where T's field is: a field missing from the shape, or
 * a check of the wrong type or optionality, is a compile error.
 */
export type Shape<T> = { [K in keyof T]-?: undefined extends T[K] ? Optional<Exclude<T[K], undefined>> : Check<T[K]> };

export const string: Check<string> = (v, path) => (typeof v === 'string' ? v : fail(path, 'a string', v));

export const number: Check<number> = (v, path) => (typeof v === 'number' && Number.isFinite(v) ? v : fail(path, 'a number', v));

export const boolean: Check<boolean> = (v, path) => (typeof v === 'boolean' ? v : fail(path, 'true or false', v));

export function literal<L extends string>(expected: L): Check<L> {
  return (v, path) => (v === expected ? expected : fail(path, JSON.stringify(expected), v));
}

export function oneOf<L extends string>(...allowed: L[]): Check<L> {
  return (v, path) => (allowed.includes(v as L) ? (v as L) : fail(path, `one of ${allowed.map((a) => JSON.stringify(a)).join(', ')}`, v));
}

export function array<T>(item: Check<T>): Check<T[]> {
  return (v, path) => {
    if (!Array.isArray(v)) return fail(path, 'an array', v);
    v.forEach((x, i) => item(x, `${path}[${i}]`));
    return v as T[];
  };
}

export function optional<T>(check: Check<T>): Optional<T> {
  return { optional: check };
}

/**
 * An object with at least the fields of `shape`. Fields it does not name are kept: the protocol
 * grows by adding fields, and an older extension must go on reading newer events. The object is
 * returned as it is, not copied (output events arrive by the thousand).
 */
export function object<T>(shape: Shape<T>): Check<T> {
  const fields = Object.entries(shape) as [string, Check<unknown> | Optional<unknown>][];
  return (v, path) => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) return fail(path, 'an object', v);
    const o = v as Record<string, unknown>;
    for (const [key, check] of fields) {
      const p = `${path}.${key}`;
      if (typeof check === 'function') check(o[key], p);
      else if (o[key] !== undefined) check.optional(o[key], p);
    }
    return v as T;
  };
}

function fail(path: string, expected: string, got: unknown): never {
  const shown = got === undefined ? 'nothing' : JSON.stringify(got)?.slice(0, 60) ?? String(got);
  throw new Error(`${path} must be ${expected}, got ${shown}`);
}
