// Policy texts the ledger can serve: a version's own published text, or one it was given for a
// version published without its text (the shipped catalogue's files), kept only under its own digest.
import type { Catalog } from "../domain/catalog.js";
import { sha256Hex } from "../log/canonical.js";

export class DocumentTexts {
  /** Texts by digest for versions whose publication did not carry one. */
  private readonly known = new Map<string, string>();

  /** Adds texts for versions published without theirs; a text is kept only under its own digest. */
  add(texts: ReadonlyMap<string, string>): void {
    for (const [digest, text] of texts) if (sha256Hex(Buffer.from(text, "utf8")) === digest) this.known.set(digest, text);
  }

  /** The text a version's digest stands for, if the ledger holds it. */
  of(catalog: Catalog, policyId: string, version: number): { text: string; digest: string } | null {
    const v = catalog.version(policyId, version);
    const text = v ? (v.documentText ?? this.known.get(v.digest)) : undefined;
    return v && text !== undefined ? { text, digest: v.digest } : null;
  }
}
