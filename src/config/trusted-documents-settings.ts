// TRUSTED_DOCUMENTS, TRUSTED_DOCUMENTS_ONLY and HTTP_FAST_PATH: the documents clients may name by hash (docs/trusted-documents.md).
import { type Get, boolSetting } from "./settings.js";
import type { Config } from "./types.js";

/** The file is read (and each document checked) when the server starts, where a bad one stops it. */
export function trustedDocumentsSettings(get: Get): Config["trustedDocuments"] {
  return {
    file: get("TRUSTED_DOCUMENTS") ?? null,
    only: boolSetting(get, "TRUSTED_DOCUMENTS_ONLY", false),
    fastPath: boolSetting(get, "HTTP_FAST_PATH", true),
  };
}
