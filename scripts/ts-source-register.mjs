// `node --import ./scripts/ts-source-register.mjs entry.ts`: runs a process from the TypeScript
// sources (the test suite's worker processes) with the hooks of ts-source-hooks.mjs, and defines
// the decorator helpers the compiled sources call (tsc's __decorate, __metadata and __param).
import { register } from "node:module";

const reflect = () => /** @type {Record<string, Function>} */ (/** @type {unknown} */ (Reflect));

globalThis.babelHelpers = {
  decorate(decorators, target, key, desc) {
    const c = arguments.length;
    let r = c < 3 ? target : desc === null ? (desc = Object.getOwnPropertyDescriptor(target, key)) : desc;
    if (typeof reflect().decorate === "function") r = reflect().decorate(decorators, target, key, desc);
    else
      for (let i = decorators.length - 1; i >= 0; i--) {
        const d = decorators[i];
        if (d) r = (c < 3 ? d(r) : c > 3 ? d(target, key, r) : d(target, key)) || r;
      }
    if (c > 3 && r) Object.defineProperty(target, key, r);
    return r;
  },
  decorateMetadata(k, v) {
    if (typeof reflect().metadata === "function") return reflect().metadata(k, v);
    return undefined;
  },
  decorateParam(index, decorator) {
    return (target, key) => decorator(target, key, index);
  },
};

register(new URL("./ts-source-hooks.mjs", import.meta.url).href);
