// What changed between two versions of a policy, purpose by purpose, for "what am I agreeing to now?".

export interface DiffRecipient {
  id: string;
  name: string;
  country: string | null;
}

export interface DiffPurpose {
  id: string;
  title: string;
  mode: string;
  dataCategories: readonly string[];
  recipients: readonly DiffRecipient[];
}

export interface PurposeChange {
  id: string;
  title: string;
  kind: "added" | "removed" | "changed";
  /** For "changed": which aspects differ (mode, dataCategories, recipients, title). */
  aspects: ("title" | "mode" | "dataCategories" | "recipients")[];
  addedRecipients: DiffRecipient[];
  removedRecipients: DiffRecipient[];
}

const sameSet = (a: readonly string[], b: readonly string[]) => a.length === b.length && [...a].sort().join("\u0000") === [...b].sort().join("\u0000");
const recipientKey = (r: DiffRecipient) => `${r.id}\u0000${r.country ?? ""}`;

/** The purposes added, removed or changed from `before` (null: nothing accepted yet) to `after`, in `after`'s order. */
export function diffPurposes(before: readonly DiffPurpose[] | null, after: readonly DiffPurpose[]): PurposeChange[] {
  if (before === null) return [];
  const old = new Map(before.map((p) => [p.id, p]));
  const changes: PurposeChange[] = [];
  for (const p of after) {
    const o = old.get(p.id);
    if (!o) {
      changes.push({ id: p.id, title: p.title, kind: "added", aspects: [], addedRecipients: [...p.recipients], removedRecipients: [] });
      continue;
    }
    const aspects: PurposeChange["aspects"] = [];
    if (o.title !== p.title) aspects.push("title");
    if (o.mode !== p.mode) aspects.push("mode");
    if (!sameSet(o.dataCategories, p.dataCategories)) aspects.push("dataCategories");
    const oldR = new Set(o.recipients.map(recipientKey));
    const newR = new Set(p.recipients.map(recipientKey));
    const addedRecipients = p.recipients.filter((r) => !oldR.has(recipientKey(r)));
    const removedRecipients = o.recipients.filter((r) => !newR.has(recipientKey(r)));
    if (addedRecipients.length > 0 || removedRecipients.length > 0) aspects.push("recipients");
    if (aspects.length > 0) changes.push({ id: p.id, title: p.title, kind: "changed", aspects, addedRecipients, removedRecipients });
  }
  const kept = new Set(after.map((p) => p.id));
  for (const o of before) {
    if (!kept.has(o.id)) changes.push({ id: o.id, title: o.title, kind: "removed", aspects: [], addedRecipients: [], removedRecipients: [...o.recipients] });
  }
  return changes;
}
