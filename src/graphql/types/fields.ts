// Object types declared as tables of fields: a field says its GraphQL type, whether it may be null and
// what it means, and the TypeScript type of its value follows from that, so a type is written once.
import { type ClassType, Field, type FieldOptions, ID, InputType, Int, ObjectType } from "type-graphql";
import { DateTimeScalar } from "../scalars.js";

/** What a field's type is given as: a thunk, as type-graphql's `@Field` takes it. */
type GraphQLTypeOf = Extract<Parameters<typeof Field>[0], () => unknown>;

/**
 * One field of a table: its GraphQL type as type-graphql takes it, its options, and for TypeScript only
 * the type of its value and whether an object may leave it out (`Optional`).
 */
export interface FieldSpec<V, Optional extends boolean = false> {
  readonly type: GraphQLTypeOf;
  readonly options: FieldOptions;
  /** Never set: these carry the field's TypeScript types. */
  readonly value?: V;
  readonly optional?: Optional;
}

const described = (description: string | undefined): FieldOptions => (description === undefined ? {} : { description });
const spec = <V>(type: GraphQLTypeOf, description?: string): FieldSpec<V> => ({ type, options: described(description) });

export const id = (description?: string): FieldSpec<string> => spec(() => ID, description);
export const text = (description?: string): FieldSpec<string> => spec(() => String, description);
export const int = (description?: string): FieldSpec<number> => spec(() => Int, description);
export const flag = (description?: string): FieldSpec<boolean> => spec(() => Boolean, description);
/** An instant (milliseconds since the epoch inside, an ISO 8601 string on the wire). */
export const timestamp = (description?: string): FieldSpec<number> => spec(() => DateTimeScalar, description);
/** A value of a registered enum. */
export const oneOf = <E extends Record<string, string>>(values: E, description?: string): FieldSpec<E[keyof E]> => spec(() => values, description);
/** A value of another object type (in an input, of another input type). */
export const object = <T extends object>(type: ClassType<T>, description?: string): FieldSpec<T> => spec(() => type, description);
/** A list (never null, nor its items) of `item`s; `item`'s own description is not used. */
export const listOf = <V>(item: FieldSpec<V>, description?: string): FieldSpec<V[]> => spec(() => [item.type()], description);
/** `field`, but it may be null. */
export const nullable = <V>(field: FieldSpec<V>): FieldSpec<V | null> => ({ type: field.type, options: { nullable: true, ...field.options } });
/** `field` (an input's) with the value it takes when left out. */
export const withDefault = <V>(field: FieldSpec<V>, defaultValue: V): FieldSpec<V> => ({ type: field.type, options: { ...field.options, defaultValue } });
/** `field`, which an object may leave out in TypeScript (null, or a field resolver or a default fills it); GraphQL sees no difference. */
export const optional = <V>(field: FieldSpec<V>): FieldSpec<V, true> => field as unknown as FieldSpec<V, true>;

type Fields = Record<string, FieldSpec<unknown, boolean>>;
type ValueOf<S> = S extends FieldSpec<infer V, boolean> ? V : never;
type Values<F extends Fields> = { [K in keyof F as F[K] extends FieldSpec<unknown, true> ? never : K]: ValueOf<F[K]> } & {
  [K in keyof F as F[K] extends FieldSpec<unknown, true> ? K : never]?: ValueOf<F[K]>;
};

/** An input's values: a field that may be null may also be left out. */
type InputValues<F extends Fields> = { [K in keyof F as null extends ValueOf<F[K]> ? never : K]: ValueOf<F[K]> } & {
  [K in keyof F as null extends ValueOf<F[K]> ? K : never]?: ValueOf<F[K]>;
};

/** A class named `name` carrying `fields`, in their order, then given to `register` (type-graphql's ObjectType or InputType). */
function typeClass(name: string, fields: Fields, register: ClassDecorator): ClassType<object> {
  const type = { [name]: class {} }[name]!;
  for (const [key, field] of Object.entries(fields)) Field(field.type, field.options)(type.prototype, key);
  register(type);
  return type;
}

/**
 * The GraphQL object type `name` with `fields`, in their order, as a class for resolvers to name
 * (`@Resolver(() => …)`, `@FieldResolver`); an object of the type holds the fields' values.
 */
export const objectType = <F extends Fields>(name: string, description: string | undefined, fields: F) =>
  typeClass(name, fields, ObjectType(name, described(description))) as ClassType<Values<F>>;

/** The GraphQL input type `name` with `fields`, in their order, as a class for resolvers' arguments. */
export const inputType = <F extends Fields>(name: string, description: string | undefined, fields: F) =>
  typeClass(name, fields, InputType(name, described(description))) as ClassType<InputValues<F>>;
