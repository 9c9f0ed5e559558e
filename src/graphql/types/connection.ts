// Pages of a list, the Relay way: edges with cursors, and whether there is more.
import { type ClassType, Field, ObjectType } from "type-graphql";

@ObjectType("PageInfo")
export class PageInfoType {
  @Field(() => Boolean) hasNextPage!: boolean;
  @Field(() => String, { nullable: true }) endCursor!: string | null;
}

/** The `${name}Edge` (a node with its cursor) and `${name}Connection` (a page of edges) types of a paged list of `node`s. */
export function connectionTypes<T extends object>(name: string, node: ClassType<T>) {
  @ObjectType(`${name}Edge`)
  class Edge {
    @Field(() => String) cursor!: string;
    @Field(() => node) node!: T;
  }

  @ObjectType(`${name}Connection`)
  class Connection {
    @Field(() => [Edge]) edges!: Edge[];
    @Field(() => PageInfoType) pageInfo!: PageInfoType;
  }

  return { Edge, Connection };
}
