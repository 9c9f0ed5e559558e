// What the preference centre's sections share: the person's data, the API, names, and how to report.
import type { Api } from "../common/api.js";
import type { NameBook } from "../common/events.js";
import type { PreferencesQuery } from "../gql/graphql.js";

export type Me = PreferencesQuery["me"];
export type Standing = Me["policyStandings"][number];
export type Version = NonNullable<Standing["applicableVersion"]>;
export type Purpose = Version["purposes"][number];

/** A receipt issued in this tab: the signed file can be downloaded only right after the save. */
export interface TabReceipt {
  jws: string;
  savedAt: string;
  summary: string;
}

export interface PageContext {
  api: Api;
  me: Me;
  names: NameBook;
  receipts: TabReceipt[];
  /** Shows a message at the top of the page as it is now and moves focus to it (call it after `reload`). */
  flash(kind: "ok" | "error", text: string): void;
  /** Reads the person's state again and renders it. */
  reload(): Promise<void>;
  /** Reports a failed call: sign-in again for a refused token, else a message. */
  failed(e: unknown): void;
}

/** Where the text behind a policy version is served. */
export const policyTextUrl = (policyId: string, version: number): string => `/policies/${encodeURIComponent(policyId)}/${version}`;
