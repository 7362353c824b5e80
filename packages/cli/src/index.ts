export { runUp, UpOptionsSchema } from './commands/up.js';
export { runBridge, BridgeOptionsSchema } from './commands/bridge.js';
export { runIngress, IngressOptionsSchema, ingressConfigFrom } from './commands/ingress.js';
export { runLs, LsOptionsSchema } from './commands/ls.js';
export { runCall, CallOptionsSchema, parseToolArguments } from './commands/call.js';
export { startLocalNats, findNatsServer, NATS_INSTALL_HINT } from './local-nats.js';
export { joinMesh } from './discover.js';
