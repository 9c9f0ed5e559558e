// The operations both pages send; their types are generated from schema.graphql.
import { graphql } from "../gql/index.js";

/** Every policy's and purpose's title, by version, for naming them in events and histories (see nameBook). */
export const NamesQuery = graphql(`
  query PolicyNames {
    policies { id title versions { number purposes { id title } } }
  }
`);
