// A linear pass over a parsed document that prices, before graphql's validation runs, the work of its
// overlapping-fields rule (quadratic in same-named fields) and refuses a document over the budget.
import { type DocumentNode, type FragmentDefinitionNode, GraphQLError, Kind, type SelectionSetNode } from "graphql";

/**
 * The work one document may ask of graphql's overlapping-fields rule, in units of about one field
 * comparison (a fraction of a microsecond): a few milliseconds. graphql checks that every pair of
 * fields with one response name in a selection set can merge (comparing what they select, pair by
 * pair), and every pair of fragments spread there; a generated query repeats a name a few times
 * where fragments overlap, an attack thousands of times.
 */
export const MAX_OVERLAP_WORK = 20_000;
/** Named fragments one document may define. */
export const MAX_FRAGMENTS = 200;
/** Comparing two same-named leaf fields (name and arguments). */
const LEAF_PAIR = 0.1;
/** Comparing two same-named fields with selections, before comparing what they select. */
const COMPOSITE_PAIR = 3;
/** Comparing two fragments spread in one selection set. */
const FRAGMENT_PAIR = 8;

const refusal = (message: string) => new GraphQLError(message, { extensions: { code: "GRAPHQL_VALIDATION_FAILED", http: { status: 400 } } });

interface NameCount {
  count: number;
  /** What comparing one of these fields with a same-named one costs, summed over them. */
  pairCost: number;
}

/**
 * Why the document would cost graphql's validation more than a few milliseconds, or null. Linear in
 * the document: each selection set is walked once, each named fragment's fields counted once and its
 * transitive spreads gathered once (cycles and unknown fragments count as nothing: validation reports them).
 */
export function validationBudgetBroken(document: DocumentNode): GraphQLError | null {
  const fragments = new Map<string, FragmentDefinitionNode>();
  for (const d of document.definitions) if (d.kind === Kind.FRAGMENT_DEFINITION) fragments.set(d.name.value, d);
  if (fragments.size > MAX_FRAGMENTS) return refusal(`a document may define at most ${MAX_FRAGMENTS} fragments; this one defines ${fragments.size}`);

  /** Each fragment's own fields (inline fragments merged, spreads not followed) and the fragments it spreads. */
  const shallow = new Map<string, { names: Map<string, NameCount>; spreads: Set<string> }>();
  /** Each fragment with every fragment it reaches through spreads. */
  const closures = new Map<string, Set<string>>();
  let work = 0;
  /** Fragment pairs met in selection sets; graphql compares each distinct pair once per document. */
  let fragmentPairs = 0;

  /** Gathers the set's fields by response name and the fragments it spreads; nested selection sets are priced on the way. */
  const walk = (set: SelectionSetNode, names: Map<string, NameCount>, spreads: Set<string>): void => {
    for (const sel of set.selections) {
      if (sel.kind === Kind.FIELD) {
        const pairCost = sel.selectionSet ? COMPOSITE_PAIR + price(sel.selectionSet) : LEAF_PAIR;
        const key = sel.alias?.value ?? sel.name.value;
        const n = names.get(key);
        if (n) {
          n.count++;
          n.pairCost += pairCost;
        } else names.set(key, { count: 1, pairCost });
      } else if (sel.kind === Kind.INLINE_FRAGMENT) walk(sel.selectionSet, names, spreads);
      else spreads.add(sel.name.value);
    }
  };

  const shallowOf = (name: string) => {
    let s = shallow.get(name);
    if (s) return s;
    s = { names: new Map(), spreads: new Set() };
    shallow.set(name, s); // set before walking: a cycle finds it and stops
    const fragment = fragments.get(name);
    if (fragment) walk(fragment.selectionSet, s.names, s.spreads);
    return s;
  };

  const closureOf = (name: string): Set<string> => {
    const known = closures.get(name);
    if (known) return known;
    const out = new Set<string>([name]);
    closures.set(name, out);
    for (const next of shallowOf(name).spreads) for (const n of closureOf(next)) out.add(n);
    return out;
  };

  /**
   * Adds the comparisons inside one selection set to the work, and returns what comparing the set
   * with another of the same shape would cost (every same-named pair across the two).
   */
  const price = (set: SelectionSetNode): number => {
    const names = new Map<string, NameCount>();
    const spreads = new Set<string>();
    walk(set, names, spreads);
    const reached = new Set<string>();
    for (const s of spreads) for (const n of closureOf(s)) reached.add(n);
    const merged = new Map(names);
    for (const f of reached)
      for (const [key, c] of shallowOf(f).names) {
        const m = merged.get(key);
        merged.set(key, m ? { count: m.count + c.count, pairCost: m.pairCost + c.pairCost } : c);
      }
    let across = FRAGMENT_PAIR * reached.size * reached.size;
    for (const { count, pairCost } of merged.values()) {
      const each = pairCost / count;
      across += count * count * each;
      if (count > 1) work += ((count * (count - 1)) / 2) * each;
    }
    fragmentPairs += (reached.size * (reached.size - 1)) / 2;
    return across;
  };

  for (const d of document.definitions) {
    if (d.kind === Kind.OPERATION_DEFINITION || d.kind === Kind.FRAGMENT_DEFINITION) price(d.selectionSet);
    if (work > MAX_OVERLAP_WORK) break;
  }
  work += FRAGMENT_PAIR * Math.min(fragmentPairs, (fragments.size * (fragments.size - 1)) / 2);
  if (work > MAX_OVERLAP_WORK)
    return refusal(
      `the document repeats response names or fragments so often that checking they merge would take about ${Math.round(work)} units of work; at most ${MAX_OVERLAP_WORK} are spent (select each field once, or give repeats distinct aliases)`,
    );
  return null;
}
