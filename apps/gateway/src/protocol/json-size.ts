/** Sizes above this are recorded as this: far above any body the gateway accepts. */
export const MAX_MEASURED_BYTES = 64 * 1024 * 1024;

/**
 * About how many bytes `value` takes as JSON, for usage records, without serialising it: an
 * iterative walk (no recursion, so no stack overflow at any depth) that counts each object once
 * (a cycle ends it), stops at `limit` and never throws. String escapes are not counted, and
 * `toJSON` is not called: an estimate, not the exact bytes written.
 */
export function approximateJsonBytes(value: unknown, limit = MAX_MEASURED_BYTES): number {
  let bytes = 0;
  const seen = new Set<object>();
  const stack: unknown[] = [value];
  try {
    while (stack.length > 0 && bytes < limit) {
      const item = stack.pop();
      switch (typeof item) {
        case 'string':
          bytes += Buffer.byteLength(item) + 2;
          break;
        case 'number':
        case 'bigint':
          bytes += String(item).length;
          break;
        case 'boolean':
          bytes += item ? 4 : 5;
          break;
        case 'object': {
          if (item === null) {
            bytes += 4;
            break;
          }
          if (seen.has(item)) break;
          seen.add(item);
          if (Array.isArray(item)) {
            bytes += 2 + Math.max(item.length - 1, 0);
            for (const element of item) stack.push(element);
          } else {
            const keys = Object.keys(item);
            bytes += 2 + Math.max(keys.length - 1, 0);
            for (const key of keys) {
              bytes += Buffer.byteLength(key) + 3;
              stack.push((item as Record<string, unknown>)[key]);
            }
          }
          break;
        }
        default:
          // undefined, functions and symbols: JSON leaves them out.
          break;
      }
    }
  } catch {
    // A throwing getter or proxy: what was counted so far stands.
  }
  return Math.min(Math.round(bytes), limit);
}
