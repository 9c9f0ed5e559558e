// The shipped policy catalogue: JSON files under CATALOG_DIR, published at start when not yet in the ledger.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import type { Controller, PolicyVersion, Purpose } from "./domain/catalog.js";
import { type PublishCommand, toPublishCommand } from "./domain/decide.js";
import { badInput } from "./domain/errors.js";
import type { Actor } from "./domain/events.js";
import { parseRfc3339 } from "./domain/time.js";
import type { Ledger } from "./ledger.js";
import { canonicalJson, sha256Hex } from "./log/canonical.js";

interface CatalogFile {
  policyId: string;
  version: number;
  title: string;
  overrides?: string | null;
  effectiveAt: string;
  requiresConsent: boolean;
  documentUrl?: string | null;
  /** The policy text, relative to the JSON file; its SHA-256 is the version's digest. */
  document: string;
  changeSummary?: string | null;
  purposes: (Omit<Purpose, "description" | "consentTtlDays" | "recipients"> & Partial<Purpose>)[];
  /** The business operator responsible for the data: receipts and exports name it from here. */
  controller?: (Pick<Controller, "name"> & Partial<Controller>) | null;
  /** Plain-language labels of the data categories, by id (`{ "cookie": "クッキー" }`). */
  dataCategories?: Record<string, string> | null;
}

/** A catalogue file that says something else than the version already published with its text. */
export class CatalogMismatchError extends Error {
  override readonly name = "CatalogMismatchError";
}

/**
 * What a publication says, in a form two publications can be compared by (the ledger's own members
 * left out). The front-end annotations (Consent Mode types, GPC, category labels) are left out too:
 * a version published before they existed keeps starting, and gets them with its next version.
 */
const comparable = (cmd: PublishCommand) => {
  const { dataCategories: _labels, ...rest } = toPublishCommand(cmd);
  return canonicalJson({ ...rest, purposes: rest.purposes.map(({ consentModeTypes: _t, gpcApplies: _g, ...p }) => p) });
};

const SYSTEM: Actor = { kind: "SYSTEM", id: "catalog" };

/** Reads every `*.json` under `dir`, ordered by policy (bases first) and version. */
export function readCatalogDir(dir: string): PublishCommand[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  const specs = files.map((f) => {
    const path = join(dir, f);
    const raw = JSON.parse(readFileSync(path, "utf8")) as CatalogFile;
    const effectiveAt = parseRfc3339(raw.effectiveAt);
    if (effectiveAt === undefined) throw badInput(`${path}: effectiveAt is not an RFC 3339 date-time`);
    const document = readFileSync(resolve(dirname(path), raw.document));
    return {
      order: [raw.overrides ? 1 : 0, raw.policyId, raw.version] as const,
      cmd: toPublishCommand({
        ...raw,
        effectiveAt,
        digest: sha256Hex(document),
        dataCategories: Object.entries(raw.dataCategories ?? {}).map(([id, label]) => ({ id, label })),
      }),
    };
  });
  specs.sort((a, b) => a.order[0] - b.order[0] || a.order[1].localeCompare(b.order[1]) || a.order[2] - b.order[2]);
  return specs.map((s) => s.cmd);
}

/**
 * Publishes the versions whose digest the ledger does not hold yet; returns how many it published.
 * A file whose text was published already but whose content (purposes, recipients, controller…)
 * differs from that publication stops the start: the change needs a new version, not a silent skip.
 */
export async function publishCatalogDir(ledger: Ledger, dir: string): Promise<number> {
  let published = 0;
  for (const cmd of readCatalogDir(dir)) {
    const known: PolicyVersion | undefined = ledger.catalog.get(cmd.policyId)?.versions.find((v) => v.digest === cmd.digest);
    if (known) {
      const { number, publishedAt, ...spec } = known;
      if (comparable(spec) !== comparable(cmd))
        throw new CatalogMismatchError(
          `catalogue ${dir}: ${cmd.policyId} differs from version ${number} published with the same text (digest ${cmd.digest.slice(0, 12)}…); publish a new version instead of editing a published one`,
        );
      continue;
    }
    // Null when another replica published this text since the catalogue above was read.
    if (await ledger.publishCatalogVersion(cmd, SYSTEM)) published++;
  }
  return published;
}
