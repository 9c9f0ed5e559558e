// `npm start`: build if the sources are newer than dist/, then serve.
import "./ensure-built.mjs";
await import("../dist/src/main.js");
