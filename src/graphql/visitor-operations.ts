// What a visitor token (consent:visitor) may ask: a few root fields, always about the visitor itself.
import { type DocumentNode, GraphQLError, Kind, getOperationAST } from "graphql";

/** The root fields a visitor token may ask for; resolvers keep each to the visitor itself (consent:self rules). */
export const VISITOR_ROOT_FIELDS: ReadonlySet<string> = new Set(["me", "recordConsent", "recordNoticeShown", "consentChanged", "externalTransmissions", "__typename"]);

/** FORBIDDEN unless every root field of the operation is one a visitor may ask for (fragments at the root are not). */
export function checkVisitorOperation(document: DocumentNode, operationName: string | null | undefined): void {
  const op = getOperationAST(document, operationName ?? undefined);
  const fields = op?.selectionSet.selections ?? [];
  const outside = fields.find((s) => s.kind !== Kind.FIELD || !VISITOR_ROOT_FIELDS.has(s.name.value));
  if (outside)
    throw new GraphQLError(`a visitor session may ask only for ${[...VISITOR_ROOT_FIELDS].filter((f) => f !== "__typename").join(", ")}`, {
      extensions: { code: "FORBIDDEN", http: { status: 403 } },
    });
}
