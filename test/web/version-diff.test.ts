// "What changed" between policy versions, as the preference centre shows it before a person accepts.
import { describe, expect, it } from "vitest";
import { type DiffPurpose, diffPurposes } from "../../src/web/common/version-diff.js";

const purpose = (id: string, over: Partial<DiffPurpose> = {}): DiffPurpose => ({ id, title: id, mode: "OPT_IN", dataCategories: ["contact"], recipients: [], ...over });
const acme = { id: "acme", name: "ACME", country: "SG" };

describe("diffPurposes", () => {
  it("lists nothing before anything was accepted (the whole version is new to the person)", () => {
    expect(diffPurposes(null, [purpose("a")])).toEqual([]);
  });

  it("finds added, removed and changed purposes, naming what changed", () => {
    const before = [purpose("kept"), purpose("gone"), purpose("moved", { mode: "OPT_OUT", dataCategories: ["a", "b"] }), purpose("shared")];
    const after = [purpose("kept"), purpose("moved", { mode: "OPT_IN", dataCategories: ["b", "a"] }), purpose("shared", { recipients: [acme] }), purpose("new")];
    const changes = diffPurposes(before, after);
    expect(changes.map((c) => [c.id, c.kind, c.aspects])).toEqual([
      ["moved", "changed", ["mode"]],
      ["shared", "changed", ["recipients"]],
      ["new", "added", []],
      ["gone", "removed", []],
    ]);
    expect(changes[1]!.addedRecipients).toEqual([acme]);
  });

  it("sees a recipient moving to another country as a change", () => {
    const changes = diffPurposes([purpose("p", { recipients: [acme] })], [purpose("p", { recipients: [{ ...acme, country: "US" }] })]);
    expect(changes).toHaveLength(1);
    expect(changes[0]!.addedRecipients[0]!.country).toBe("US");
    expect(changes[0]!.removedRecipients[0]!.country).toBe("SG");
  });

  it("an identical version has no changes", () => {
    const v = [purpose("a", { recipients: [acme] }), purpose("b")];
    expect(diffPurposes(v, v.map((p) => ({ ...p })))).toEqual([]);
  });
});
