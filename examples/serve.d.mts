// Types of serve.mjs, for the browser tests that start the example shop.
export declare function startExampleSite(opts?: { port?: number; host?: string; endpoint?: string | (() => string) }): Promise<{ url: string; close(): Promise<void> }>;
