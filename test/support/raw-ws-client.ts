// A graphql-ws client on a bare TCP socket, for tests of clients that stop reading; it lives beside the
// attack bench, which drives the same client (bench/raw-ws.ts).
export { type Message, RawWsClient } from "../../bench/raw-ws.js";
