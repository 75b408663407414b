/**
 * Event, EventTarget, CustomEvent, AbortController and AbortSignal (abort, timeout, any,
 * throwIfAborted), after the DOM Standard, for a target with no tree (no capture or bubble
 * path). wfn's own code: event-target-shim and abort-controller, the usual polyfills, are
 * unmaintained since 2021/2019 and lack AbortSignal.timeout/any; this is ~250 lines.
 */
import { hooks } from './hooks.js';
import { defineGlobals } from './install.js';
import { reportError } from './platform.js';
import { clearTimeout, setTimeout } from './timers.js';

interface EventInit {
  bubbles?: boolean;
  cancelable?: boolean;
  composed?: boolean;
}

const NONE = 0;
const AT_TARGET = 2;

export class Event {
  static readonly NONE = 0;
  static readonly CAPTURING_PHASE = 1;
  static readonly AT_TARGET = 2;
  static readonly BUBBLING_PHASE = 3;
  readonly NONE = 0;
  readonly CAPTURING_PHASE = 1;
  readonly AT_TARGET = 2;
  readonly BUBBLING_PHASE = 3;

  #type: string;
  #bubbles: boolean;
  #cancelable: boolean;
  #composed: boolean;
  #canceled = false;
  #stop = false;
  #stopNow = false;
  #target: EventTarget | null = null;
  #current: EventTarget | null = null;
  #phase = NONE;
  #dispatching = false;
  #inPassive = false;
  readonly #timeStamp = Date.now();

  constructor(type: string, init: EventInit = {}) {
    if (arguments.length === 0) throw new TypeError("Event: 1 argument required (the event's type)");
    this.#type = String(type);
    this.#bubbles = Boolean(init?.bubbles);
    this.#cancelable = Boolean(init?.cancelable);
    this.#composed = Boolean(init?.composed);
  }

  get type(): string {
    return this.#type;
  }

  get bubbles(): boolean {
    return this.#bubbles;
  }

  get cancelable(): boolean {
    return this.#cancelable;
  }

  get composed(): boolean {
    return this.#composed;
  }

  get defaultPrevented(): boolean {
    return this.#canceled;
  }

  get target(): EventTarget | null {
    return this.#target;
  }

  get srcElement(): EventTarget | null {
    return this.#target;
  }

  get currentTarget(): EventTarget | null {
    return this.#current;
  }

  get eventPhase(): number {
    return this.#phase;
  }

  get isTrusted(): boolean {
    return false;
  }

  get timeStamp(): number {
    return this.#timeStamp;
  }

  get returnValue(): boolean {
    return !this.#canceled;
  }

  set returnValue(value: boolean) {
    if (!value) this.preventDefault();
  }

  get cancelBubble(): boolean {
    return this.#stop;
  }

  set cancelBubble(value: boolean) {
    if (value) this.#stop = true;
  }

  composedPath(): EventTarget[] {
    return this.#dispatching && this.#current ? [this.#current] : [];
  }

  preventDefault(): void {
    if (this.#cancelable && !this.#inPassive) this.#canceled = true;
  }

  stopPropagation(): void {
    this.#stop = true;
  }

  stopImmediatePropagation(): void {
    this.#stop = true;
    this.#stopNow = true;
  }

  initEvent(type: string, bubbles = false, cancelable = false): void {
    if (this.#dispatching) return;
    this.#type = String(type);
    this.#bubbles = Boolean(bubbles);
    this.#cancelable = Boolean(cancelable);
    this.#canceled = this.#stop = this.#stopNow = false;
  }

  /** @internal The dispatch algorithm's bookkeeping, for EventTarget. */
  static begin(event: Event, target: EventTarget): void {
    if (event.#dispatching) throw new DOMException('The event is already being dispatched', 'InvalidStateError');
    event.#dispatching = true;
    event.#target = event.#current = target;
    event.#phase = AT_TARGET;
  }

  static end(event: Event): void {
    event.#dispatching = false;
    event.#current = null;
    event.#phase = NONE;
    event.#stop = event.#stopNow = false;
  }

  static stoppedNow(event: Event): boolean {
    return event.#stopNow;
  }

  static passive(event: Event, passive: boolean): void {
    event.#inPassive = passive;
  }

  get [Symbol.toStringTag](): string {
    return 'Event';
  }
}

export class CustomEvent<T = unknown> extends Event {
  readonly #detail: T | null;

  constructor(type: string, init: EventInit & { detail?: T } = {}) {
    super(type, init);
    this.#detail = init?.detail ?? null;
  }

  get detail(): T | null {
    return this.#detail;
  }

  get [Symbol.toStringTag](): string {
    return 'CustomEvent';
  }
}

type Listener = ((event: Event) => unknown) | { handleEvent(event: Event): unknown };

interface Registration {
  listener: Listener;
  capture: boolean;
  once: boolean;
  passive: boolean;
  removed: boolean;
}

function flags(options: boolean | { capture?: boolean; once?: boolean; passive?: boolean; signal?: AbortSignal } | undefined) {
  if (typeof options === 'boolean') return { capture: options, once: false, passive: false, signal: undefined };
  return { capture: Boolean(options?.capture), once: Boolean(options?.once), passive: Boolean(options?.passive), signal: options?.signal };
}

export class EventTarget {
  #listeners = new Map<string, Registration[]>();

  addEventListener(type: string, listener: Listener | null, options?: boolean | { capture?: boolean; once?: boolean; passive?: boolean; signal?: AbortSignal }): void {
    if (listener === null || listener === undefined) return;
    if (typeof listener !== 'function' && typeof listener !== 'object') throw new TypeError('addEventListener: the listener must be a function or an object');
    const { capture, once, passive, signal } = flags(options);
    if (signal?.aborted) return;
    const list = this.#listeners.get(String(type)) ?? [];
    if (list.some((r) => r.listener === listener && r.capture === capture)) return;
    const registration: Registration = { listener, capture, once, passive, removed: false };
    list.push(registration);
    this.#listeners.set(String(type), list);
    signal?.addEventListener('abort', () => this.removeEventListener(type, listener, { capture }));
  }

  removeEventListener(type: string, listener: Listener | null, options?: boolean | { capture?: boolean }): void {
    const list = this.#listeners.get(String(type));
    if (!list) return;
    const capture = flags(options).capture;
    const index = list.findIndex((r) => r.listener === listener && r.capture === capture);
    if (index >= 0) {
      list[index].removed = true;
      list.splice(index, 1);
    }
  }

  dispatchEvent(event: Event): boolean {
    if (!(event instanceof Event)) throw new TypeError('dispatchEvent: the argument must be an Event');
    Event.begin(event, this);
    try {
      for (const r of [...(this.#listeners.get(event.type) ?? [])]) {
        if (r.removed) continue;
        if (r.once) this.removeEventListener(event.type, r.listener, { capture: r.capture });
        Event.passive(event, r.passive);
        try {
          if (typeof r.listener === 'function') r.listener.call(this, event);
          else if (typeof r.listener.handleEvent === 'function') r.listener.handleEvent(event);
        } catch (error) {
          reportError(error);
        }
        Event.passive(event, false);
        if (Event.stoppedNow(event)) break;
      }
    } finally {
      Event.end(event);
    }
    return !event.defaultPrevented;
  }

  get [Symbol.toStringTag](): string {
    return 'EventTarget';
  }
}

/** `on<type>` attribute handlers (onabort, onmessage...) as the HTML Standard defines them. */
export function defineEventHandler(target: object, type: string): void {
  const handlers = new WeakMap<object, { fn: ((e: Event) => unknown) | null; listener: (e: Event) => unknown }>();
  Object.defineProperty(target, `on${type}`, {
    get(this: EventTarget) {
      return handlers.get(this)?.fn ?? null;
    },
    set(this: EventTarget, fn: unknown) {
      let entry = handlers.get(this);
      if (!entry) {
        const created = { fn: null as ((e: Event) => unknown) | null, listener: (e: Event) => created.fn?.call(this, e) };
        handlers.set(this, (entry = created));
        this.addEventListener(type, entry.listener);
      }
      entry.fn = typeof fn === 'function' ? (fn as (e: Event) => unknown) : null;
    },
    configurable: true,
    enumerable: true,
  });
}

const CREATE = Symbol('wfn.createSignal');

const timeoutError = () => new DOMException('The operation timed out.', 'TimeoutError');

export class AbortSignal extends EventTarget {
  #aborted = false;
  #reason: unknown = undefined;
  /**
   * Wall-clock deadline of a timeout signal (Infinity otherwise). A function blocked in a
   * host call cannot run timers, so fetch() hands the time left to the host as the call's own
   * timeout, and the signal reads as aborted once the clock has passed it.
   */
  #deadline = Infinity;
  /** Signals that follow this one (AbortSignal.any). */
  #dependents = new Set<AbortSignal>();

  constructor(token?: symbol) {
    if (token !== CREATE) throw new TypeError('AbortSignal: use new AbortController().signal, AbortSignal.abort(), .timeout() or .any()');
    super();
  }

  static abort(reason?: unknown): AbortSignal {
    const signal = new AbortSignal(CREATE);
    signal.#aborted = true;
    signal.#reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    return signal;
  }

  /** Aborts after `ms` of the function's (virtual) time: see timers.ts. */
  static timeout(ms: number): AbortSignal {
    const delay = Number(ms);
    if (!Number.isFinite(delay) || delay < 0) throw new TypeError('AbortSignal.timeout: expected a non-negative number of milliseconds');
    const signal = new AbortSignal(CREATE);
    signal.#deadline = Date.now() + delay;
    const id = setTimeout(() => AbortSignal.signalAbort(signal, timeoutError()), delay);
    signal.addEventListener('abort', () => clearTimeout(id), { once: true });
    return signal;
  }

  static any(signals: Iterable<AbortSignal>): AbortSignal {
    const list = [...signals];
    const signal = new AbortSignal(CREATE);
    for (const s of list) {
      if (!(s instanceof AbortSignal)) throw new TypeError('AbortSignal.any: every item must be an AbortSignal');
      if (s.#aborted) {
        signal.#aborted = true;
        signal.#reason = s.#reason;
        return signal;
      }
    }
    for (const s of list) {
      s.#dependents.add(signal);
      signal.#deadline = Math.min(signal.#deadline, s.#deadline);
    }
    return signal;
  }

  /** @internal Signals abort: the reason is kept, 'abort' fires, dependents follow. */
  static signalAbort(signal: AbortSignal, reason: unknown): void {
    if (signal.#aborted) return;
    signal.#aborted = true;
    signal.#reason = reason === undefined ? new DOMException('This operation was aborted', 'AbortError') : reason;
    const dependents = [...signal.#dependents];
    signal.#dependents.clear();
    signal.dispatchEvent(new Event('abort'));
    for (const d of dependents) AbortSignal.signalAbort(d, signal.#reason);
  }

  /** @internal A signal for a request that nothing will abort. */
  static create(): AbortSignal {
    return new AbortSignal(CREATE);
  }

  /** @internal Milliseconds until the signal's deadline; Infinity when it has none. */
  static remainingMs(signal: AbortSignal): number {
    return signal.#deadline === Infinity ? Infinity : Math.max(0, signal.#deadline - Date.now());
  }

  #checkDeadline(): void {
    if (!this.#aborted && this.#deadline !== Infinity && Date.now() >= this.#deadline) AbortSignal.signalAbort(this, timeoutError());
  }

  get aborted(): boolean {
    this.#checkDeadline();
    return this.#aborted;
  }

  get reason(): unknown {
    this.#checkDeadline();
    return this.#reason;
  }

  throwIfAborted(): void {
    this.#checkDeadline();
    if (this.#aborted) throw this.#reason;
  }

  get [Symbol.toStringTag](): string {
    return 'AbortSignal';
  }
}
defineEventHandler(AbortSignal.prototype, 'abort');

export class AbortController {
  readonly #signal = AbortSignal.create();

  get signal(): AbortSignal {
    return this.#signal;
  }

  abort(reason?: unknown): void {
    AbortSignal.signalAbort(this.#signal, reason);
  }

  get [Symbol.toStringTag](): string {
    return 'AbortController';
  }
}

hooks.signal = {
  neverAborted: () => AbortSignal.create(),
  isSignal: (value) => value instanceof AbortSignal,
  remainingMs: (signal) => AbortSignal.remainingMs(signal as AbortSignal),
};

defineGlobals({ Event, EventTarget, CustomEvent, AbortController, AbortSignal });
