// type-graphql insists on a PubSub once a schema has subscriptions; ours bring their own `subscribe`, so this one is never used.
import type { PubSub } from "type-graphql";

/** Fails loudly if a topic-based @Subscription is ever added: the change feed is the only source. */
export const NO_PUB_SUB: PubSub = {
  publish() {
    throw new Error("subscriptions are served by the change feed, not by a PubSub");
  },
  subscribe() {
    throw new Error("subscriptions are served by the change feed, not by a PubSub");
  },
};
