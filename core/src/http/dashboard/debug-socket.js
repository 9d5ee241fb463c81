// The debug channel (GET /api/debug) from the browser: the session cookie authenticates the
// upgrade, the server checks the Origin. Reconnects with backoff; the last subscription is
// sent again after every reconnect.

export class DebugSocket {
  constructor({ onEvent, onState, onDropped }) {
    this.onEvent = onEvent;
    this.onState = onState;
    this.onDropped = onDropped;
    this.subscription = { type: 'subscribe' };
    this.pending = new Map();
    this.nextId = 1;
    this.delay = 500;
    this.connect();
  }

  connect() {
    const scheme = window.location.protocol === 'https:' ? 'wss' : 'ws';
    const ws = new WebSocket(`${scheme}://${window.location.host}/api/debug`);
    this.ws = ws;
    ws.addEventListener('open', () => {
      this.delay = 500;
      ws.send(JSON.stringify(this.subscription));
    });
    ws.addEventListener('message', (frame) => this.receive(JSON.parse(frame.data)));
    ws.addEventListener('close', () => {
      this.onState(false);
      for (const { reject } of this.pending.values()) reject(new Error('debug channel closed'));
      this.pending.clear();
      setTimeout(() => this.connect(), this.delay);
      this.delay = Math.min(this.delay * 2, 10_000);
    });
  }

  get open() {
    return this.ws.readyState === WebSocket.OPEN;
  }

  subscribe(filter) {
    this.subscription = { type: 'subscribe', ...filter };
    if (this.open) this.ws.send(JSON.stringify(this.subscription));
  }

  /** Resolves with { traceId, dropped } once the server admitted (or dropped) the message. */
  inject(message) {
    const id = String(this.nextId++);
    return new Promise((resolve, reject) => {
      this.pending.set(id, { resolve, reject });
      this.ws.send(JSON.stringify({ type: 'inject', id, message }));
    });
  }

  receive(message) {
    switch (message.type) {
      case 'subscribed':
        this.onState(true);
        return;
      case 'event':
        this.onEvent(message);
        return;
      case 'dropped':
        this.onDropped(message.count);
        return;
      case 'injected':
      case 'error': {
        const waiter = this.pending.get(message.id);
        if (!waiter) return;
        this.pending.delete(message.id);
        if (message.type === 'error') waiter.reject(new Error(message.message));
        else waiter.resolve(message);
        return;
      }
      default:
    }
  }
}
