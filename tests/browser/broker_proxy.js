// broker_proxy.js — a TCP proxy between the daemon and the test broker, so the browser test can
// take the broker away and give it back without touching the broker (run.sh starts it before
// the daemon and points the daemon's amqp_url at it).
//   node broker_proxy.js LISTEN_PORT TARGET_PORT
// Listens on 127.0.0.1:LISTEN_PORT and forwards each connection to 127.0.0.1:TARGET_PORT.
// SIGUSR1 cuts: every open connection is destroyed and the port closed, so new connections are
// refused. SIGUSR2 opens the port again. Each change prints one line ("cut", "open") to stdout.
'use strict';

const net = require('node:net');

const [listenPort, targetPort] = process.argv.slice(2).map(Number);
if (!(listenPort > 0 && targetPort > 0)) {
  console.error('usage: node broker_proxy.js LISTEN_PORT TARGET_PORT');
  process.exit(2);
}

const open = new Set();  // the sockets of both sides of every connection
let server = null;

function track(socket) {
  open.add(socket);
  socket.on('close', () => open.delete(socket));
  socket.on('error', () => socket.destroy());
}

function accept(client) {
  const broker = net.connect(targetPort, '127.0.0.1');
  track(client);
  track(broker);
  client.pipe(broker);
  broker.pipe(client);
  client.on('close', () => broker.destroy());
  broker.on('close', () => client.destroy());
}

function listen() {
  if (server) return;
  server = net.createServer(accept);
  server.on('error', e => {
    console.error(`broker proxy: ${e.message}`);
    process.exit(1);
  });
  server.listen(listenPort, '127.0.0.1', () => console.log('open'));
}

function cut() {
  if (!server) return;
  server.close();
  server = null;
  for (const socket of open) socket.destroy();
  console.log('cut');
}

process.on('SIGUSR1', cut);
process.on('SIGUSR2', listen);
process.on('SIGTERM', () => process.exit(0));
setInterval(() => {}, 1 << 30);  // keeps running while cut (nothing else is left to wait on)
listen();
