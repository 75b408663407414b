/** Types for the runtime's dependencies that ship none. */
declare module 'whatwg-url/lib/url-state-machine.js' {
  export interface UrlRecord {
    scheme: string;
    username: string;
    password: string;
    host: unknown;
    port: number | null;
    path: string[] | string;
    query: string | null;
    fragment: string | null;
  }
  export function basicURLParse(input: string, options?: { baseURL?: UrlRecord | null; url?: UrlRecord; stateOverride?: string }): UrlRecord | null;
  export function serializeURL(url: UrlRecord, excludeFragment?: boolean): string;
  export function serializeURLOrigin(url: UrlRecord): string;
  export function serializeHost(host: unknown): string;
  export function serializeInteger(n: number): string;
  export function serializePath(url: UrlRecord): string;
  export function setTheUsername(url: UrlRecord, username: string): void;
  export function setThePassword(url: UrlRecord, password: string): void;
  export function cannotHaveAUsernamePasswordPort(url: UrlRecord): boolean;
  export function hasAnOpaquePath(url: UrlRecord): boolean;
}

declare module 'whatwg-url/lib/urlencoded.js' {
  export function parseUrlencodedString(input: string): [string, string][];
  export function serializeUrlencoded(tuples: [string, string][]): string;
}

declare module 'punycode/punycode.es6.js' {
  export function encode(input: string): string;
  export function decode(input: string): string;
}

declare module '@ungap/structured-clone' {
  export default function structuredClone<T>(value: T, options?: { json?: boolean; lossy?: boolean }): T;
}
