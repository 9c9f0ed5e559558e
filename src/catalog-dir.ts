// The shipped policy catalogue: JSON files under CATALOG_DIR, published at start when not yet in the ledger.
import { readFileSync, readdirSync } from "node:fs";
import { dirname, join, resolve } from "node:path";
import { type Catalog, type Controller, type PolicyVersion, type Purpose, controllerOf } from "./domain/catalog.js";
import { DOCUMENT_TEXT_LENGTH, type PublishCommand, toPublishCommand } from "./domain/decide.js";
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
  static readonly code = "CATALOG_MISMATCH";
  readonly code = CatalogMismatchError.code;
  override readonly name = "CatalogMismatchError";
}

/**
 * What a publication says, in a form two publications can be compared by: the ledger's own members,
 * the text (which the digest stands for) and the front-end annotations (Consent Mode types, GPC,
 * category labels) left out, so a version published before the annotations existed keeps starting and
 * gets them with its next version.
 */
const comparable = (cmd: PublishCommand) => {
  const { dataCategories: _labels, ...rest } = toPublishCommand({ ...cmd, documentText: null });
  return canonicalJson({ ...rest, purposes: rest.purposes.map(({ consentModeTypes: _t, gpcApplies: _g, ...p }) => p) });
};

/** A catalogue file read: the publication it asks for, under the version number the file gives. */
export interface CatalogEntry {
  path: string;
  version: number;
  cmd: PublishCommand;
}

const SYSTEM: Actor = { kind: "SYSTEM", id: "catalog" };

/** Reads every `*.json` under `dir`, ordered by policy (bases first) and version. */
export function readCatalogDir(dir: string): PublishCommand[] {
  return readCatalogEntries(dir).map((e) => e.cmd);
}

/** The catalogue files with their paths and version numbers, ordered by policy (bases first) and version. */
export function readCatalogEntries(dir: string): CatalogEntry[] {
  const files = readdirSync(dir).filter((f) => f.endsWith(".json"));
  const specs = files.map((f) => {
    const path = join(dir, f);
    const raw = JSON.parse(readFileSync(path, "utf8")) as CatalogFile;
    const effectiveAt = parseRfc3339(raw.effectiveAt);
    if (effectiveAt === undefined) throw badInput(`${path}: effectiveAt is not an RFC 3339 date-time`);
    if (!Number.isInteger(raw.version) || raw.version < 1) throw badInput(`${path}: version must be a positive whole number`);
    const document = readFileSync(resolve(dirname(path), raw.document));
    const text = document.toString("utf8");
    // The text travels with the publication, so GET /policies/<id>/<version> serves what the digest stands for.
    const documentText = text.length <= DOCUMENT_TEXT_LENGTH && sha256Hex(Buffer.from(text, "utf8")) === sha256Hex(document) ? text : null;
    return {
      order: [raw.overrides ? 1 : 0, raw.policyId, raw.version] as const,
      entry: {
        path,
        version: raw.version,
        cmd: toPublishCommand({
          ...raw,
          effectiveAt,
          digest: sha256Hex(document),
          documentText,
          dataCategories: Object.entries(raw.dataCategories ?? {}).map(([id, label]) => ({ id, label })),
        }),
      },
    };
  });
  specs.sort((a, b) => a.order[0] - b.order[0] || a.order[1].localeCompare(b.order[1]) || a.order[2] - b.order[2]);
  return specs.map((s) => s.entry);
}

/** The texts of the catalogue's documents by digest (for versions published before publications carried their text). */
export function catalogTexts(dir: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const { cmd } of readCatalogEntries(dir)) if (cmd.documentText) out.set(cmd.digest, cmd.documentText);
  return out;
}

/**
 * Publishes the versions whose digest the ledger does not hold yet; returns how many it published.
 * A file whose text was published already but whose content (purposes, recipients, controller…)
 * differs from that publication stops the start: the change needs a new version, not a silent skip.
 */
export async function publishCatalogDir(ledger: Ledger, dir: string): Promise<number> {
  let published = 0;
  for (const { path, version, cmd } of readCatalogEntries(dir)) {
    const held: PolicyVersion | undefined = ledger.catalog.version(cmd.policyId, version);
    // A file under a number the ledger holds says what that version says, text included: an edited
    // text is a new version with its own number, never a quiet republication.
    if (held && held.digest !== cmd.digest)
      throw new CatalogMismatchError(
        `catalogue ${path}: version ${version} of ${cmd.policyId} is already published with another text (digest ${held.digest.slice(0, 12)}…, the file's ${cmd.digest.slice(0, 12)}…); give the edited text a new version number`,
      );
    const known: PolicyVersion | undefined = held ?? ledger.catalog.get(cmd.policyId)?.versions.find((v) => v.digest === cmd.digest);
    if (known) {
      const { number, publishedAt, ...spec } = known;
      if (comparable(spec) !== comparable(cmd))
        throw new CatalogMismatchError(
          `catalogue ${dir}: ${cmd.policyId} differs from version ${number} published with the same text (digest ${cmd.digest.slice(0, 12)}…); publish a new version instead of editing a published one`,
        );
      continue;
    }
    const next = ledger.catalog.nextNumber(cmd.policyId);
    if (version !== next)
      throw new CatalogMismatchError(`catalogue ${path}: the file is version ${version} of ${cmd.policyId}, but the next version the ledger would publish is ${next}`);
    // Null when another replica published this text since the catalogue above was read.
    if (await ledger.publishCatalogVersion(cmd, SYSTEM)) published++;
  }
  return published;
}

/** What a production start needs the controller to name (APPI Art. 32): the person asking must know whom to ask and how. */
export const PRODUCTION_CONTROLLER_FIELDS = ["name", "address", "representative", "contact", "requestProcedure"] as const;

/** Refuses a production start while a base policy's current controller lacks one of PRODUCTION_CONTROLLER_FIELDS. */
export function checkProductionController(catalog: Catalog): void {
  for (const p of catalog.policies()) {
    if (p.overrides !== null) continue;
    const c = controllerOf(p, p.versions.length);
    const missing = PRODUCTION_CONTROLLER_FIELDS.filter((f) => !c || (c[f] ?? "").trim() === "");
    if (missing.length > 0)
      throw new Error(
        `refusing to start: NODE_ENV=production needs the catalogue's controller of ${p.id} to name its ${missing.join(", ")} (publish a version with them; see docs/compliance.md)`,
      );
  }
}
