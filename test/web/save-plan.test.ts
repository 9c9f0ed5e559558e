// The preference centre's save: which purposes one recordConsent grants and withdraws.
import fc from "fast-check";
import { describe, expect, it } from "vitest";
import { type PurposeChoice, planSave } from "../../src/web/preferences/save-plan.js";

const choice = (id: string, mode: PurposeChoice["mode"], initiallyOn: boolean, on = initiallyOn): PurposeChoice => ({ id, mode, initiallyOn, on });

describe("planSave", () => {
  it("grants what was turned on and withdraws what was turned off", () => {
    expect(planSave([choice("location", "OPT_IN", false, true), choice("external-analytics", "OPT_OUT", true, false), choice("ads", "OPT_OUT", true)], false)).toEqual({
      grant: ["location"],
      withdraw: ["external-analytics"],
      acceptPolicy: false,
    });
  });

  it("records nothing when nothing changed and no version is accepted", () => {
    expect(planSave([choice("location", "OPT_IN", true), choice("ads", "OPT_OUT", false)], false)).toBeNull();
  });

  it("accepting a version alone is worth a save, and re-grants the opt-ins left on under it", () => {
    expect(planSave([choice("location", "OPT_IN", true), choice("ads", "OPT_OUT", true), choice("svc", "REQUIRED", true)], true)).toEqual({
      grant: ["location"],
      withdraw: [],
      acceptPolicy: true,
    });
  });

  it("never touches a REQUIRED purpose", () => {
    expect(planSave([choice("svc", "REQUIRED", true, false)], false)).toBeNull();
  });

  it("property: grant and withdraw are disjoint, name only optional purposes, and follow the switches", () => {
    const arb = fc.uniqueArray(
      fc.record({ id: fc.string({ minLength: 1, maxLength: 6 }), mode: fc.constantFrom("OPT_IN" as const, "OPT_OUT" as const, "REQUIRED" as const), initiallyOn: fc.boolean(), on: fc.boolean() }),
      { selector: (c) => c.id, maxLength: 12 },
    );
    fc.assert(
      fc.property(arb, fc.boolean(), (choices, accepting) => {
        const plan = planSave(choices, accepting);
        if (plan === null) {
          expect(accepting).toBe(false);
          return;
        }
        const byId = new Map(choices.map((c) => [c.id, c]));
        expect(plan.grant.filter((id) => plan.withdraw.includes(id))).toEqual([]);
        for (const id of [...plan.grant, ...plan.withdraw]) expect(byId.get(id)!.mode).not.toBe("REQUIRED");
        for (const id of plan.grant) expect(byId.get(id)!.on).toBe(true);
        for (const id of plan.withdraw) expect(byId.get(id)!.on).toBe(false);
        // Every optional switch the person changed is in the plan.
        for (const c of choices) if (c.mode !== "REQUIRED" && c.on !== c.initiallyOn) expect([...plan.grant, ...plan.withdraw]).toContain(c.id);
        expect(plan.acceptPolicy).toBe(accepting);
      }),
    );
  });
});
