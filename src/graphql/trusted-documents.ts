// Trusted documents: the operations clients name by hash (`documentId`, or Apollo's
// `extensions.persistedQuery.sha256Hash`) instead of sending their text. Each is parsed, validated and
// compiled once, when the server starts; see docs/trusted-documents.md.
import { createHash } from "node:crypto";
import { readFileSync } from "node:fs";
import { type DocumentNode, GraphQLError, type OperationDefinitionNode } from "graphql";
import { type CompiledQuery, compileQuery, isCompiledQuery } from "graphql-jit";
import { ConfigError } from "../config/settings.js";
import type { Config } from "../config/types.js";
import type { GraphQLPipeline } from "./pipeline.js";
import { SHIPPED_DOCUMENTS } from "./shipped-documents.js";

/** One trusted document, checked at start. */
export interface TrustedDocument {
  /** sha256 of the text, lower-case hex. */
  readonly hash: string;
  readonly text: string;
  readonly document: DocumentNode;
  /** Each operation of the document by name ("" for the sole operation named or not): its definition and compiled form. */
  operation(name: string | null | undefined): TrustedOperation | null;
}

export interface TrustedOperation {
  readonly definition: OperationDefinitionNode;
  /** The operation's name as Apollo reports it (null when unnamed). */
  readonly name: string | null;
  readonly type: "query" | "mutation" | "subscription";
  /**
   * graphql-jit's compiled form, with `stringify` for an answer of data alone; null when compiled reads
   * are off (GRAPHQL_JIT=false) or it cannot compile it.
   */
  readonly compiled: CompiledQuery | null;
}

/** What a request names: a trusted document, a hash no document has, or nothing (a text, or no document). */
export type Named = { kind: "trusted"; document: TrustedDocument } | { kind: "unknown"; hash: string } | { kind: "none" };

/** A sha256 as the client preset writes it (`sha256:<hex>`) or plain hex; null for anything else. */
export function normaliseHash(value: unknown): string | null {
  if (typeof value !== "string") return null;
  const hex = value.startsWith("sha256:") ? value.slice(7) : value;
  return /^[0-9a-fA-F]{64}$/.test(hex) ? hex.toLowerCase() : null;
}

export const sha256Hex = (text: string): string => createHash("sha256").update(text).digest("hex");

/** The hash a request's fields name: `documentId`, else `extensions.persistedQuery.sha256Hash`; undefined when neither is there. */
export function namedHash(fields: { documentId?: unknown; extensions?: unknown }): string | undefined {
  if (fields.documentId !== undefined && fields.documentId !== null) return String(fields.documentId);
  const ext = fields.extensions;
  if (typeof ext !== "object" || ext === null) return undefined;
  const pq = (ext as { persistedQuery?: unknown }).persistedQuery;
  if (typeof pq !== "object" || pq === null) return undefined;
  const hash = (pq as { sha256Hash?: unknown }).sha256Hash;
  return hash === undefined || hash === null ? undefined : String(hash);
}

/** The documents of one server: the shipped map plus the operator's file, each checked against the schema. */
export class TrustedDocuments {
  /** TRUSTED_DOCUMENTS_ONLY: every document that is not trusted is refused. */
  readonly only: boolean;
  private readonly byHash = new Map<string, TrustedDocument>();

  constructor(maps: readonly Readonly<Record<string, unknown>>[], pipeline: GraphQLPipeline, options: { only: boolean; compile: boolean; source: (i: number) => string }) {
    this.only = options.only;
    maps.forEach((map, i) => {
      for (const [key, text] of Object.entries(map)) {
        const where = `${options.source(i)}: "${key}"`;
        const hash = normaliseHash(key);
        if (hash === null) throw new ConfigError(`${where} is not a sha256 hash (64 hex digits, optionally prefixed sha256:)`);
        if (typeof text !== "string") throw new ConfigError(`${where} must map to a document's text`);
        if (sha256Hex(text) !== hash) throw new ConfigError(`${where} is not the sha256 of its document`);
        this.byHash.set(hash, checkDocument(hash, text, pipeline, options.compile, where));
      }
    });
  }

  /** Loads the shipped map and TRUSTED_DOCUMENTS' file; throws ConfigError on a bad file or document. */
  static load(config: Config, pipeline: GraphQLPipeline): TrustedDocuments {
    const { file, only } = config.trustedDocuments;
    const maps: Readonly<Record<string, unknown>>[] = [SHIPPED_DOCUMENTS];
    if (file !== null) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(readFileSync(file, "utf8"));
      } catch (e) {
        throw new ConfigError(`TRUSTED_DOCUMENTS: cannot read ${file} as JSON (${(e as Error).message})`);
      }
      if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed))
        throw new ConfigError(`TRUSTED_DOCUMENTS: ${file} must hold one JSON object mapping sha256 hashes to documents`);
      maps.push(parsed as Record<string, unknown>);
    }
    return new TrustedDocuments(maps, pipeline, { only, compile: config.compiledReads, source: (i) => (i === 0 ? "the shipped trusted documents" : `TRUSTED_DOCUMENTS ${file}`) });
  }

  get size(): number {
    return this.byHash.size;
  }

  get(hash: string): TrustedDocument | undefined {
    return this.byHash.get(hash);
  }

  /**
   * The text a request runs: a trusted document's for a known hash; null for an unknown hash without a
   * text, and under TRUSTED_DOCUMENTS_ONLY for an unknown hash or a text that is not a trusted document.
   */
  queryOf(fields: { query?: unknown; documentId?: unknown; extensions?: unknown }): string | null {
    const named = this.named(fields);
    if (named.kind === "trusted") return named.document.text;
    const text = typeof fields.query === "string" && fields.query !== "" ? fields.query : null;
    if (text === null || !this.only) return named.kind === "unknown" ? text : (fields.query as string);
    return named.kind === "none" && this.byHash.has(sha256Hex(text)) ? text : null;
  }

  /** What a request's `documentId` or `extensions.persistedQuery` names. */
  named(fields: { documentId?: unknown; extensions?: unknown }): Named {
    const raw = namedHash(fields);
    if (raw === undefined) return { kind: "none" };
    const hash = normaliseHash(raw);
    const document = hash === null ? undefined : this.byHash.get(hash);
    return document ? { kind: "trusted", document } : { kind: "unknown", hash: raw };
  }
}

/** The error a hash no trusted document has, and a text under TRUSTED_DOCUMENTS_ONLY, are answered with (as Apollo words it). */
export const persistedQueryNotFound = (): GraphQLError => new GraphQLError("PersistedQueryNotFound", { extensions: { code: "PERSISTED_QUERY_NOT_FOUND" } });

function checkDocument(hash: string, text: string, pipeline: GraphQLPipeline, compile: boolean, where: string): TrustedDocument {
  const screened = pipeline.screen(text);
  if (screened) throw new ConfigError(`${where}: ${screened.message}`);
  const checked = pipeline.checkedDocument(text);
  if (Array.isArray(checked)) throw new ConfigError(`${where} does not fit the schema: ${checked.map((e) => e.message).join("; ")}`);
  const document = checked;
  const operations = new Map<string, TrustedOperation>();
  const definitions = document.definitions.filter((d): d is OperationDefinitionNode => d.kind === "OperationDefinition");
  for (const definition of definitions) {
    const name = definition.name?.value ?? null;
    let compiled: CompiledQuery | null = null;
    if (compile) {
      // With a serializer built from the selection (fast-json-stringify): about a third of JSON.stringify's time for an answer.
      const c = compileQuery(pipeline.schema, document, name ?? undefined, { disablingCapturingStackErrors: true, customJSONSerializer: true });
      compiled = isCompiledQuery(c) ? c : null;
    }
    const op: TrustedOperation = { definition, name, type: definition.operation, compiled };
    if (name !== null) operations.set(name, op);
    if (definitions.length === 1) operations.set("", op);
  }
  return {
    hash,
    text,
    document,
    // As graphql resolves them: a name to the operation of that name, no name to the sole operation.
    operation: (name) => operations.get(name ?? "") ?? null,
  };
}

const loaded = new WeakMap<GraphQLPipeline, TrustedDocuments>();

/** The trusted documents of a pipeline's server, loaded (and checked) once and shared by both transports. */
export function trustedDocumentsFor(pipeline: GraphQLPipeline, config: Config): TrustedDocuments {
  let docs = loaded.get(pipeline);
  if (!docs) loaded.set(pipeline, (docs = TrustedDocuments.load(config, pipeline)));
  return docs;
}
