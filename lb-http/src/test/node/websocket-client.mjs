// A browser-API WebSocket client (Node's built-in, undici; run with --experimental-websocket on Node 20)
// for WebSocketNodeClientTest. Usage: node --experimental-websocket websocket-client.mjs BASE_URL
// Prints one JSON line: what came back through Sluice.
const base = process.argv[2];

function open(url, protocols) {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url, protocols);
    ws.binaryType = 'arraybuffer';
    const queue = [];
    const waiters = [];
    ws.onmessage = (e) => { const w = waiters.shift(); if (w) w(e.data); else queue.push(e.data); };
    ws.next = () => new Promise((r) => { const q = queue.shift(); if (q !== undefined) r(q); else waiters.push(r); });
    ws.closed = new Promise((r) => { ws.onclose = (e) => r(e.code); });
    ws.onopen = () => resolve(ws);
    ws.onerror = (e) => reject(new Error('websocket error ' + (e.message || '')));
  });
}

const out = {};
const echo = await open(base + '/ws/node');
echo.send('hello from node');
out.text = await echo.next();
echo.send(new Uint8Array([1, 2, 3, 250]));
out.binary = Array.from(new Uint8Array(await echo.next()));
echo.close(4002, 'bye');
out.closeCode = await echo.closed;

const a = await open(base + '/signaling');
const b = await open(base + '/signaling');
a.send(JSON.stringify({ type: 'join', room: 'n', peer: 'a' }));
await a.next();
b.send(JSON.stringify({ type: 'join', room: 'n', peer: 'b' }));
out.peers = JSON.parse(await b.next()).peers;
await a.next(); // peer-joined
a.send(JSON.stringify({ type: 'offer', room: 'n', to: 'b', sdp: 'v=0' }));
out.offer = JSON.parse(await b.next());
a.close();
out.left = JSON.parse(await b.next());
b.close();
console.log(JSON.stringify(out));
