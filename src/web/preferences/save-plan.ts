// From the switches a person set to the one recordConsent that records them.

export interface PurposeChoice {
  id: string;
  mode: "OPT_IN" | "OPT_OUT" | "REQUIRED";
  /** Whether processing is allowed now (what the switch showed when the page loaded). */
  initiallyOn: boolean;
  /** What the switch shows now. */
  on: boolean;
}

export interface SavePlan {
  grant: string[];
  withdraw: string[];
  acceptPolicy: boolean;
}

/**
 * Which purposes to grant and withdraw. When a new version is accepted, every OPT_IN purpose left on is
 * granted again under it, so the grant covers what that version says (its recipients, its data).
 * Null when there is nothing to record.
 */
export function planSave(choices: readonly PurposeChoice[], acceptingVersion: boolean): SavePlan | null {
  const grant: string[] = [];
  const withdraw: string[] = [];
  for (const c of choices) {
    if (c.mode === "REQUIRED") continue;
    if (c.on && (!c.initiallyOn || (acceptingVersion && c.mode === "OPT_IN"))) grant.push(c.id);
    else if (!c.on && c.initiallyOn) withdraw.push(c.id);
  }
  if (!acceptingVersion && grant.length === 0 && withdraw.length === 0) return null;
  return { grant, withdraw, acceptPolicy: acceptingVersion };
}
