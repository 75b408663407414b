/**
 * The JSON Schema of wfn.toml. One source: the loader validates against it and
 * `schema/wfn.schema.json` (for editors, e.g. Taplo/Even Better TOML) is written from it.
 */
import { FUNCTION_NAME_PATTERN } from './names.js';

export const WFN_TOML_SCHEMA = {
  $schema: 'http://json-schema.org/draft-07/schema#',
  $id: 'https://wfn.dev/schema/wfn.schema.json',
  title: 'wfn.toml',
  description: 'A wfn function project: one WebAssembly function, built once, run on every target.',
  type: 'object',
  additionalProperties: false,
  required: ['name', 'language'],
  properties: {
    name: {
      type: 'string',
      pattern: FUNCTION_NAME_PATTERN.source,
      description: 'Function name: lower-case letters, digits and dashes (it names the artifact and the deployed service).',
    },
    language: { enum: ['assemblyscript', 'rust', 'go', 'js'], description: 'Source language.' },
    route: { type: 'string', pattern: '^/', description: 'Route prefix the function is mounted on by `wfn dev` (default "/").' },
    secrets: {
      type: 'array',
      items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]*$' },
      description: 'Names of environment variables read from the process environment at run/deploy time. Values never go in wfn.toml.',
    },
    build: {
      type: 'object',
      additionalProperties: false,
      properties: {
        optimize: { enum: ['O3', 'Oz', 'none'], description: 'wasm-opt level (default O3).' },
        snapshot: { type: 'boolean', description: 'Pre-initialize with Wizer (default: when the module exports wizer.initialize).' },
        compiler: { enum: ['go', 'tinygo'], description: 'Go only: the compiler (default go).' },
        main: { type: 'string', description: 'Entry source file, relative to the project (language default when absent).' },
      },
    },
    env: {
      type: 'object',
      additionalProperties: { type: 'string' },
      description: 'Plain environment variables for the function (not secrets).',
    },
    outbound: {
      type: 'object',
      additionalProperties: false,
      description: 'Outbound HTTP: deny by default; the origins the function may call and the limits of its calls.',
      properties: {
        allow: {
          type: 'array',
          items: { type: 'string' },
          description: 'Origins the function may call: "scheme://host[:port]", "*." before the host for any subdomain, ":*" for any port (e.g. "https://api.example.com", "https://*.example.com", "http://127.0.0.1:3001").',
        },
        timeout_ms: { type: 'integer', minimum: 1, maximum: 900000, description: 'Per-call timeout in ms, redirects and body included (default 10000).' },
        max_response_bytes: { type: 'integer', minimum: 0, maximum: 1073741824, description: 'Largest response body of one call in bytes (default 16777216).' },
        max_calls: { type: 'integer', minimum: 0, maximum: 10000, description: 'Calls per invocation (default 50).' },
      },
    },
    kv: {
      type: 'object',
      additionalProperties: false,
      description: 'Key-value stores (wfn_kv_v1): the stores the function may open; none when absent.',
      properties: {
        stores: {
          type: 'array',
          items: { type: 'string', pattern: '^[A-Za-z_][A-Za-z0-9_]{0,63}$', description: 'A store name: a letter or _, then up to 63 letters, digits or _ (in JavaScript it is the binding env.<name>).' },
          description: 'Names of the stores the function may open (e.g. ["default"]); each is a store of the target (SQLite file, S3, DynamoDB table, Workers KV namespace, Fastly KV store).',
        },
      },
    },
    files: {
      type: 'object',
      description: 'Bundled files, read-only: each key is where the function sees a folder ("/", "/templates"), the value the project folder ("public/") or a table { dir, include, exclude } with globs. They travel inside the artifact.',
      additionalProperties: {
        oneOf: [
          { type: 'string', description: 'A project folder, e.g. "public/".' },
          {
            type: 'object',
            additionalProperties: false,
            required: ['dir'],
            properties: {
              dir: { type: 'string', description: 'A project folder, e.g. "public/".' },
              include: { type: 'array', items: { type: 'string' }, description: 'Globs relative to dir: only matching files (default all).' },
              exclude: { type: 'array', items: { type: 'string' }, description: 'Globs relative to dir: files left out (names starting with "." always are).' },
            },
          },
        ],
      },
    },
    limits: {
      type: 'object',
      additionalProperties: false,
      properties: {
        memory: { type: 'integer', minimum: 1, maximum: 4096, description: 'Memory cap in MiB (default 128).' },
        timeout: { type: 'integer', minimum: 1, maximum: 900000, description: 'Wall-clock timeout per request in ms (default 10000).' },
      },
    },
  },
} as const;
