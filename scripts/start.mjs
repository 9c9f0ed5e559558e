// `npm start`: build the server and the web pages if their sources are newer than dist/, then serve.
import "./ensure-built.mjs";
import "./ensure-web-built.mjs";
await import("../dist/src/main.js");
