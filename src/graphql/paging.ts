// Page sizes: bounded so one query cannot ask for the whole log.
import { badInput } from "../domain/errors.js";

export const MAX_PAGE = 1_000;

export function pageSize(first: number | null | undefined, fallback: number): number {
  const n = first ?? fallback;
  if (!Number.isInteger(n) || n < 0 || n > MAX_PAGE) throw badInput(`first must be between 0 and ${MAX_PAGE}`);
  return n;
}

export function typeFilter(types: readonly string[] | null | undefined): string[] | undefined {
  if (!types || types.length === 0) return undefined;
  if (types.length > 50) throw badInput("types has more than 50 items");
  return [...types];
}
