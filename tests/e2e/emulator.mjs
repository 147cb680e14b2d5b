// Starts the Bot API emulator (npm `telegram-test-api`) for the end-to-end tests.
//
//   node tests/e2e/emulator.mjs [PORT]        (or EMULATOR_PORT; 0 lets the OS pick a free port)
//
// Prints one line `emulator ready http://127.0.0.1:<port>` on stdout once it listens; errors
// go to stderr. SIGTERM/SIGINT stop it. The package ships no start script of its own.
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const TelegramServer = require('telegram-test-api'); // the module is the class

const HOST = '127.0.0.1';
const KEEP_ALIVE_MS = 70_000; // above the bot's idle keep-alive: no resets of reused sockets
const STORE_TIMEOUT_S = Number(process.env.EMULATOR_STORE_TIMEOUT ?? 600);

const port = Number(process.argv[2] ?? process.env.EMULATOR_PORT ?? 0);
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  console.error(`emulator: bad port ${process.argv[2] ?? process.env.EMULATOR_PORT}`);
  process.exit(2);
}

// One malformed client request (a /sendCommand without entities, a /sendMessage without
// botToken) rejects a promise nobody awaits; by default that kills Node and every test after.
process.on('unhandledRejection', (reason) => {
  console.error(`emulator: unhandled rejection: ${reason?.stack ?? reason}`);
});

// `port: 0` would fall back to 9000 inside the package, so the real port is set afterwards.
const server = new TelegramServer({ port: port || 9000, host: HOST, storeTimeout: STORE_TIMEOUT_S });
server.config.port = port;
await server.start();
server.server.keepAliveTimeout = KEEP_ALIVE_MS;
server.server.headersTimeout = KEEP_ALIVE_MS + 1_000;
const actual = server.server.address().port;
server.config.apiURL = `http://${HOST}:${actual}`;
console.log(`emulator ready http://${HOST}:${actual}`);

let stopping = false;
async function stop() {
  if (stopping) return;
  stopping = true;
  // Keep-alive sockets may hold shutdown open; do not wait for them for long.
  setTimeout(() => process.exit(0), 2_000).unref();
  await server.stop();
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
