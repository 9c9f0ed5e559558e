// Builds the executable schema from the type-graphql classes, and prints it for schema.graphql.
import { type GraphQLSchema, lexicographicSortSchema, printSchema } from "graphql";
import { buildSchema } from "type-graphql";
import { ConsentResolver } from "./resolvers/consent-resolver.js";
import { LedgerEventResolver } from "./resolvers/ledger-event-resolver.js";
import { LedgerResolver } from "./resolvers/ledger-resolver.js";
import { LifecycleResolver } from "./resolvers/lifecycle-resolver.js";
import { PolicyResolver, PolicyVersionResolver, PurposeResolver } from "./resolvers/policy-resolver.js";
import { TransferResolver } from "./resolvers/transfer-resolver.js";
import { SubjectResolver } from "./resolvers/subject-resolver.js";
import { SubscriptionResolver } from "./resolvers/subscription-resolver.js";
import { TransparencyResolver } from "./resolvers/transparency-resolver.js";
import { WebhookResolver } from "./resolvers/webhook-resolver.js";
import { NO_PUB_SUB } from "./no-pub-sub.js";

export const RESOLVERS = [
  PolicyResolver,
  PolicyVersionResolver,
  PurposeResolver,
  SubjectResolver,
  ConsentResolver,
  LedgerResolver,
  LedgerEventResolver,
  LifecycleResolver,
  TransferResolver,
  SubscriptionResolver,
  TransparencyResolver,
  WebhookResolver,
] as const;

export function buildLedgerSchema(): Promise<GraphQLSchema> {
  return buildSchema({ resolvers: [...RESOLVERS], validate: false, pubSub: NO_PUB_SUB });
}

/** The SDL checked in as schema.graphql: sorted, so that it changes only when the API does. */
export const printLedgerSchema = (schema: GraphQLSchema) => `${printSchema(lexicographicSortSchema(schema))}\n`;
