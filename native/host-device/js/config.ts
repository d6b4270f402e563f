// mc/config on the host program: the JSON in NETSTACK_CONFIG.

/// <reference path="./host.d.ts" />

const config = JSON.parse(__configText) as { file: { root: string } } & Record<string, unknown>;
export default config;
