/**
 * MessageChannel, MessagePort and MessageEvent within one function: a message posted on one
 * port is structured-cloned and delivered as a 'message' event on the other, as a task
 * (after the current promise work), once the port is started (start() or onmessage).
 */
import { defineEventHandler, Event, EventTarget } from './events.js';
import { defineGlobals } from './install.js';
import { structuredClone } from './structured-clone.js';
import { setTimeout } from './timers.js';

interface MessageEventInit {
  data?: unknown;
  origin?: string;
  lastEventId?: string;
  source?: unknown;
  ports?: MessagePort[];
}

export class MessageEvent extends Event {
  readonly #init: MessageEventInit;

  constructor(type: string, init: MessageEventInit = {}) {
    super(type);
    this.#init = init ?? {};
  }

  get data(): unknown {
    return this.#init.data ?? null;
  }

  get origin(): string {
    return this.#init.origin ?? '';
  }

  get lastEventId(): string {
    return this.#init.lastEventId ?? '';
  }

  get source(): unknown {
    return this.#init.source ?? null;
  }

  get ports(): MessagePort[] {
    return [...(this.#init.ports ?? [])];
  }

  get [Symbol.toStringTag](): string {
    return 'MessageEvent';
  }
}

const CREATE = Symbol('wfn.createPort');

export class MessagePort extends EventTarget {
  #other: MessagePort | null = null;
  #queue: unknown[] = [];
  #started = false;
  #closed = false;

  constructor(token?: symbol) {
    if (token !== CREATE) throw new TypeError('MessagePort: use new MessageChannel()');
    super();
  }

  /** @internal Entangles two ports. */
  static pair(a: MessagePort, b: MessagePort): void {
    a.#other = b;
    b.#other = a;
  }

  postMessage(message: unknown): void {
    const other = this.#other;
    if (this.#closed || !other || other.#closed) return;
    other.#queue.push(structuredClone(message));
    if (other.#started) other.#flush();
  }

  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#flush();
  }

  close(): void {
    this.#closed = true;
    this.#queue = [];
  }

  #flush(): void {
    setTimeout(() => {
      while (this.#queue.length && !this.#closed) this.dispatchEvent(new MessageEvent('message', { data: this.#queue.shift() }));
    }, 0);
  }

  get [Symbol.toStringTag](): string {
    return 'MessagePort';
  }
}
defineEventHandler(MessagePort.prototype, 'messageerror');
// Setting onmessage starts the port, as the HTML Standard says.
{
  const handlers = new WeakMap<MessagePort, (e: Event) => unknown>();
  Object.defineProperty(MessagePort.prototype, 'onmessage', {
    get(this: MessagePort) {
      return handlers.get(this) ?? null;
    },
    set(this: MessagePort, fn: unknown) {
      const old = handlers.get(this);
      if (old) this.removeEventListener('message', old);
      if (typeof fn !== 'function') return void handlers.delete(this);
      handlers.set(this, fn as (e: Event) => unknown);
      this.addEventListener('message', fn as (e: Event) => unknown);
      this.start();
    },
    configurable: true,
    enumerable: true,
  });
}

export class MessageChannel {
  readonly #port1 = new MessagePort(CREATE);
  readonly #port2 = new MessagePort(CREATE);

  constructor() {
    MessagePort.pair(this.#port1, this.#port2);
  }

  get port1(): MessagePort {
    return this.#port1;
  }

  get port2(): MessagePort {
    return this.#port2;
  }

  get [Symbol.toStringTag](): string {
    return 'MessageChannel';
  }
}

defineGlobals({ MessageChannel, MessagePort, MessageEvent });
