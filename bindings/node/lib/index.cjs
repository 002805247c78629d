'use strict';
// The idiomatic layer over the raw addon: Client, streams, typed errors.
const raw = require('./native.cjs');

// The addon's own entry points for this layer (not part of the raw layer): chat
// answers with a promise made in C (resolved with the parsed response, rejected
// with an error made by errorFromFields); stream hands over chunks in batches.
const internal = raw._internal;
const LLM_OK = raw.LLM_OK;
const LLM_ERR_CANCELLED = raw.LLM_ERR_CANCELLED;

/** Base class of every error the library reports. */
class LiterLlmError extends Error {
  constructor(message, fields = {}) {
    super(message, fields.cause !== undefined ? { cause: fields.cause } : undefined);
    this.status = fields.status ?? raw.LLM_ERR_INTERNAL;
    this.statusName = raw.llm_status_str(this.status);
    this.httpStatus = fields.httpStatus ?? 0;
    this.provider = fields.provider ?? null;
    this.code = fields.code ?? null;
    this.type = fields.type ?? null;
    this.retryAfterMs = fields.retryAfterMs ?? -1;
    this.retries = fields.retries ?? 0;
  }
}
Object.defineProperty(LiterLlmError.prototype, 'name', { value: 'LiterLlmError', writable: true, configurable: true });

// One class per status, named after it: LLM_ERR_RATE_LIMITED -> RateLimitedError.
const errorClasses = {};
const classByStatus = new Map();
for (const [statusName, value] of Object.entries(raw.llm_status_values)) {
  if (value === LLM_OK) continue;
  const name = statusName.replace(/^LLM_ERR_/, '').toLowerCase()
    .replace(/(^|_)([a-z])/g, (_, __, c) => c.toUpperCase()).replace(/(Error)?$/, 'Error');
  const cls = { [name]: class extends LiterLlmError {} }[name];
  Object.defineProperty(cls.prototype, 'name', { value: name, writable: true, configurable: true });
  errorClasses[name] = cls;
  classByStatus.set(value, cls);
}

function makeError(status, fields, message) {
  const cls = classByStatus.get(status) || LiterLlmError;
  return new cls(message, { ...fields, status });
}

// Reads an llm_error_t External into a JS error, then frees it.
function errorFromHandle(status, handle, cause) {
  if (handle === null || handle === undefined) {
    return makeError(status, { cause }, raw.llm_status_str(status));
  }
  const err = makeError(raw.llm_error_status(handle) || status, {
    httpStatus: raw.llm_error_http_status(handle),
    provider: raw.llm_error_provider(handle),
    code: raw.llm_error_code(handle),
    type: raw.llm_error_type(handle),
    retryAfterMs: Number(raw.llm_error_retry_after_ms(handle)),
    retries: raw.llm_error_retries(handle),
    cause,
  }, raw.llm_error_message(handle));
  raw.llm_error_free(handle);
  return err;
}

// The addon's error factory: the fields of an llm_error_t (message null when
// there was none); `signal`, given for a cancelled call, gives the cause.
function errorFromFields(status, message, httpStatus, provider, code, type, retryAfterMs, retries, signal) {
  return makeError(status, {
    httpStatus, provider, code, type, retryAfterMs, retries, cause: signal ? signal.reason : undefined,
  }, message ?? raw.llm_status_str(status));
}

// The id of the last internal.chat (0 when it did not start), written by the addon.
const idSlot = new Float64Array(1);
internal.setup(errorFromFields, idSlot);

function check(result) {
  if (result.status !== LLM_OK) throw errorFromHandle(result.status, result.error);
  return result;
}

// Text for the library, which reads it up to its first NUL character: one inside is refused.
function text(value, what) {
  const s = String(value);
  const at = s.indexOf('\0');
  if (at >= 0) throw makeError(raw.LLM_ERR_INVALID_ARGUMENT, {}, `${what} holds a NUL character (at index ${at})`);
  return s;
}

function toJson(value, what) {
  if (typeof value === 'string') return text(value, what); // raw JSON escape hatch
  if (value === null || typeof value !== 'object') throw new TypeError(what + ' must be an object or a JSON string');
  return JSON.stringify(value);
}

// options.signal, checked before anything starts: undefined when there is none.
function signalOf(options) {
  if (options === undefined || options === null) return undefined;
  if (typeof options !== 'object') throw new TypeError('options must be an object');
  const signal = options.signal;
  if (signal === undefined || signal === null) return undefined;
  if (typeof signal !== 'object' || typeof signal.addEventListener !== 'function' ||
      typeof signal.removeEventListener !== 'function') {
    throw new TypeError('options.signal must be an AbortSignal');
  }
  return signal;
}

// Cancels the request `id` of `h` (just started: 0 when it did not) when `signal` aborts, until
// `p` settles.
function cancelOnAbort(p, signal, h, id) {
  if (id === 0) return;
  const onAbort = () => raw.llm_client_cancel(h, id);
  signal.addEventListener('abort', onAbort, { once: true });
  const off = () => signal.removeEventListener('abort', onAbort);
  p.then(off, off);
}

function abortError(signal) {
  return makeError(LLM_ERR_CANCELLED, { cause: signal.reason }, 'the operation was aborted');
}

// Frees a client handle: its driver (a hosted client's poll and timer on this
// thread's event loop) stops before llm_client_free closes the descriptor.
function freeClient(handle) {
  internal.detach(handle);
  raw.llm_client_free(handle);
}

// Safety net: a Client dropped without close() is freed when collected.
const registry = new FinalizationRegistry(freeClient);

// The config text of `new Client(config)`: "io": "host" unless the config says
// "io" itself, or "io_threads" (several loops need threads of their own) (the
// library's loop then runs on this thread, driven by the event loop). A text
// that is not a JSON object goes as it is (the library reports it).
function hostedConfig(config) {
  if (config === undefined || config === null) return '{"io":"host"}';
  const text = toJson(config, 'config');
  let parsed;
  try {
    parsed = JSON.parse(text);
  } catch {
    return text;
  }
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed) ||
      Object.prototype.hasOwnProperty.call(parsed, 'io') ||
      Object.prototype.hasOwnProperty.call(parsed, 'io_threads')) return text;
  // The field goes in front of the text as written, so that the library still
  // sees (and refuses) whatever the text holds, a repeated field included.
  const open = text.indexOf('{');
  const empty = Object.keys(parsed).length === 0;
  return '{"io":"host"' + (empty ? '' : ',') + text.slice(open + 1);
}

// Carries a handle made by Client.fromFile into the constructor.
class FromFile {
  constructor(handle) {
    this.handle = handle;
  }
}

/**
 * A client of the library: its connections and its loop; share it freely. By default (config
 * without "io" or "io_threads") the loop runs on this thread, driven by the event loop ("io":
 * "host"); with "io": "thread" (or "io_threads") the client runs its own I/O thread(s).
 */
class Client {
  #h;

  /** @param config a config object (see llm_client_new) or its JSON text; nothing for defaults. */
  constructor(config) {
    const h = config instanceof FromFile ? config.handle : check(raw.llm_client_new_e(hostedConfig(config))).out;
    try {
      internal.attach(h); // false for a threaded client: nothing to drive
    } catch (e) {
      raw.llm_client_free(h);
      throw e;
    }
    this.#h = h;
    registry.register(this, h, this);
  }

  /** A client from a config file: TOML when the path ends in .toml, else JSON. */
  static fromFile(path) {
    return new Client(new FromFile(check(raw.llm_client_new_from_file_e(text(path, 'path'))).out));
  }

  #handle() {
    if (this.#h === null) throw makeError(raw.LLM_ERR_INVALID_ARGUMENT, {}, 'the client is closed');
    return this.#h;
  }

  /** Frees the client; transfers in flight end with CancelledError. Idempotent. */
  close() {
    if (this.#h === null || this.#h === undefined) return;
    const h = this.#h;
    this.#h = null;
    registry.unregister(this);
    freeClient(h);
  }

  [Symbol.dispose]() {
    this.close();
  }

  get closed() {
    return this.#h === null;
  }

  /** Sends a chat request; resolves with the OpenAI chat.completion object (plus provider, stats). */
  chat(request, options) {
    // Every failure is a rejection (a closed client, a request JSON.stringify refuses, bad options).
    try {
      const h = this.#handle();
      const json = toJson(request, 'request');
      const signal = signalOf(options);
      if (!signal) return internal.chat(h, json, undefined, this);
      if (signal.aborted) return Promise.reject(abortError(signal));
      const p = internal.chat(h, json, signal, this);
      cancelOnAbort(p, signal, h, idSlot[0]);
      return p;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  /** Starts a streamed chat: `for await (const chunk of client.stream(req))`. */
  stream(request, options) {
    return new ChatStream(this.#handle(), toJson(request, 'request'), signalOf(options), this);
  }

  /** What chat (or a stream, with {stream: true}) would send, credentials redacted. */
  preview(request, options = {}) {
    return JSON.parse(check(raw.llm_preview_request_e(this.#handle(), toJson(request, 'request'), options.stream ? 1 : 0)).out);
  }

  /**
   * Calls any endpoint ("embeddings", "models", "audio.speech", ...; see llm_call) without
   * blocking the event loop. `uploads` are Buffers / TypedArrays the request refers to as
   * {"data": index, "filename": ...}; they are read in place (kept referenced until the call
   * ends), so do not change them before the promise settles. Resolves with a CallResponse.
   */
  call(endpoint, request = {}, uploads, options) {
    try {
      const { h, json, data, signal } = this.#callArgs(request, uploads, options);
      if (signal && signal.aborted) return Promise.reject(abortError(signal));
      const p = internal.call(h, text(endpoint, 'endpoint'), json, data, signal, this).then(responseFrom);
      if (signal) cancelOnAbort(p, signal, h, idSlot[0]);
      return p;
    } catch (e) {
      return Promise.reject(e);
    }
  }

  // The arguments of call and callStream, checked (throws TypeError / InvalidArgumentError).
  #callArgs(request, uploads, options) {
    const h = this.#handle();
    const json = toJson(request, 'request');
    if (uploads !== undefined && uploads !== null && !Array.isArray(uploads)) {
      throw new TypeError('uploads must be an array of Buffers / TypedArrays');
    }
    const data = uploads && uploads.length > 0 ? uploads : null;
    return { h, json, data, signal: signalOf(options) };
  }

  /**
   * A streamed call (llm_call_stream): "responses.create" (OpenAI's Responses API; "stream": true
   * may be left out) or "chat". `for await (const event of client.callStream(...))`, then
   * `await stream.finalResponse()`. `uploads` as call's (kept referenced until the stream ends);
   * options.signal (an AbortSignal) cancels it, as does leaving the loop early.
   */
  callStream(endpoint, request = {}, uploads, options) {
    const { h, json, data, signal } = this.#callArgs(request, uploads, options);
    return new CallStream(h, json, signal, this, (onBatch, onDone) =>
      internal.callStream(h, text(endpoint, 'endpoint'), json, data, onBatch, onDone, signal, this));
  }

  // ---- thin conveniences over call for the other endpoint families: the main fields as
  // arguments, any others in `request`; answers as the endpoint's JSON. `provider` (a provider's
  // name, "openai") goes in `request.provider`; by default the client's provider.

  /** images.generations: images for `prompt` ("model", "n", "size", ... in request). */
  async generateImage(prompt, request = {}, options) {
    return (await this.call('images.generations', { ...request, prompt }, null, options)).json;
  }

  /** moderations: one result per input (a string, a list, or multimodal parts). */
  async moderate(input, request = {}, options) {
    return (await this.call('moderations', { ...request, input }, null, options)).json;
  }

  /** rerank: `documents` ordered by relevance to `query`, most relevant first. */
  async rerank(query, documents, request = {}, options) {
    return (await this.call('rerank', { ...request, query, documents }, null, options)).json;
  }

  /** search: web results for `query` ("provider", "max_results", ... in request). */
  async search(query, request = {}, options) {
    return (await this.call('search', { ...request, query }, null, options)).json;
  }

  /**
   * files.create: `file` is a path (read as it is sent) or a Buffer (then request.filename
   * names it); `purpose` ("batch", ...). Resolves with the file object.
   */
  async createFile(file, purpose, request = {}, options) {
    const { filename, ...rest } = request;
    if (typeof file === 'string') {
      return (await this.call('files.create', { ...rest, purpose, file: { path: file, ...(filename ? { filename } : {}) } }, null, options)).json;
    }
    return (await this.call('files.create', { ...rest, purpose, file: { data: 0, filename: filename || 'file.jsonl' } }, [file], options)).json;
  }

  /** files.retrieve: the file object of `id`. */
  async retrieveFile(id, request = {}, options) {
    return (await this.call('files.retrieve', { ...request, file_id: id }, null, options)).json;
  }

  /** files.list ("purpose", "limit", "after" in request). */
  async listFiles(request = {}, options) {
    return (await this.call('files.list', request, null, options)).json;
  }

  /** files.delete. */
  async deleteFile(id, request = {}, options) {
    return (await this.call('files.delete', { ...request, file_id: id }, null, options)).json;
  }

  /** files.content: resolves with the file's bytes (a Buffer). */
  async fileContent(id, request = {}, options) {
    const r = await this.call('files.content', { ...request, file_id: id }, null, options);
    if (r.bytes === null) throw makeError(raw.LLM_ERR_SERIALIZATION, {}, 'files.content: the answer holds no bytes');
    return r.bytes;
  }

  /**
   * batches.create: a batch of the requests in the uploaded JSONL file `inputFileId` for
   * `endpoint` ("/v1/chat/completions", ...); completion_window "24h" unless request says.
   */
  async createBatch(inputFileId, endpoint, request = {}, options) {
    const req = { completion_window: '24h', ...request, input_file_id: inputFileId, endpoint };
    return (await this.call('batches.create', req, null, options)).json;
  }

  /** batches.retrieve: the batch object ("status", "output_file_id", ...). */
  async retrieveBatch(id, request = {}, options) {
    return (await this.call('batches.retrieve', { ...request, batch_id: id }, null, options)).json;
  }

  /** batches.list ("limit", "after" in request). */
  async listBatches(request = {}, options) {
    return (await this.call('batches.list', request, null, options)).json;
  }

  /** batches.cancel. */
  async cancelBatch(id, request = {}, options) {
    return (await this.call('batches.cancel', { ...request, batch_id: id }, null, options)).json;
  }

  /** responses.create (OpenAI's Responses API), answered whole. */
  async createResponse(request, options) {
    return (await this.call('responses.create', request, null, options)).json;
  }

  /** responses.create streamed: callStream's events, then finalResponse(). */
  streamResponse(request, options = {}) {
    return this.callStream('responses.create', request, null, options);
  }

  /** responses.retrieve: the stored response `id`. */
  async retrieveResponse(id, request = {}, options) {
    return (await this.call('responses.retrieve', { ...request, response_id: id }, null, options)).json;
  }

  /** responses.cancel (a background response). */
  async cancelResponse(id, request = {}, options) {
    return (await this.call('responses.cancel', { ...request, response_id: id }, null, options)).json;
  }

  /** responses.delete. */
  async deleteResponse(id, request = {}, options) {
    return (await this.call('responses.delete', { ...request, response_id: id }, null, options)).json;
  }

  /** What call would send (multipart uploads as "parts"), credentials redacted. */
  previewCall(endpoint, request = {}, uploads) {
    const data = uploads && uploads.length > 0 ? uploads : null;
    return JSON.parse(check(raw.llm_preview_call_e(this.#handle(), text(endpoint, 'endpoint'), toJson(request, 'request'), data)).out);
  }

  /**
   * Embeddings of `input` (a string or a list of strings): resolves with one Float32Array per
   * input, in input order. `request` adds fields ("model", "dimensions", ...).
   */
  async embed(input, request = {}, options) {
    const r = await this.call('embeddings', { ...request, input }, null, options);
    return r.embeddings();
  }

  /** The models a provider serves (OpenAI's model list's "data"); `provider` defaults to the client's. */
  async models(provider, options) {
    const r = await this.call('models', provider ? { provider } : {}, null, options);
    return r.json.data;
  }

  /** Speech for `input`: resolves with the audio as a Buffer (its type in contentType of call()). */
  async speech(input, request = {}, options) {
    const r = await this.call('audio.speech', { ...request, input }, null, options);
    if (r.bytes === null) throw makeError(raw.LLM_ERR_SERIALIZATION, {}, 'audio.speech: the answer holds no bytes');
    return r.bytes;
  }

  /**
   * Text of an audio file: `file` is a path (read as it is sent) or a Buffer (then
   * request.filename names it, "audio.mp3" by default). Resolves with the transcription object.
   */
  async transcribe(file, request = {}, options) {
    const { filename, ...rest } = request;
    if (typeof file === 'string') {
      return (await this.call('audio.transcriptions', { ...rest, file: { path: file, ...(filename ? { filename } : {}) } }, null, options)).json;
    }
    return (await this.call('audio.transcriptions', { ...rest, file: { data: 0, filename: filename || 'audio.mp3' } }, [file], options)).json;
  }

  /** The providers this client knows. */
  providers() {
    return JSON.parse(check(raw.llm_providers_json_e(this.#handle())).out);
  }

  /** Registers an OpenAI-compatible provider for this client. */
  registerProvider(provider) {
    check(raw.llm_register_provider_e(this.#handle(), toJson(provider, 'provider')));
  }

  /** Removes a provider registered on this client. */
  unregisterProvider(name) {
    check(raw.llm_unregister_provider_e(this.#handle(), text(name, 'name')));
  }
}

/**
 * The answer of Client.call: `json` (the endpoint's answer in OpenAI's shape plus provider and
 * stats), `bytes` (a Buffer, for a binary answer such as audio.speech) with `contentType`, and
 * the vectors of an embeddings answer (read without parsing JSON).
 */
class CallResponse {
  #text;
  #json;
  #flat;
  constructor(text, bytes, contentType, flat) {
    this.#text = text;
    this.bytes = bytes;
    this.contentType = contentType;
    this.#flat = flat;
  }

  /** The answer's JSON, parsed (once). */
  get json() {
    if (this.#json === undefined) this.#json = JSON.parse(this.#text);
    return this.#json;
  }

  /** The answer's JSON text. */
  get text() {
    return this.#text;
  }

  /** One Float32Array per vector (views of one buffer); [] when the answer holds no vectors. */
  embeddings() {
    const f = this.#flat;
    if (f === null) return [];
    const out = new Array(f.count);
    for (let i = 0; i < f.count; i++) out[i] = f.data.subarray(i * f.dimensions, (i + 1) * f.dimensions);
    return out;
  }

  /** The vectors as one row-major Float32Array with count and dimensions; null when none. */
  embeddingsFlat() {
    return this.#flat;
  }
}

// Reads a response External into a CallResponse, then frees it.
function responseFrom(handle) {
  try {
    const text = raw.llm_response_json(handle);
    const bytes = raw.llm_response_bytes(handle).value;
    const contentType = raw.llm_response_content_type(handle);
    const e = raw.llm_response_embeddings(handle);
    const flat = e.value === null ? null : { data: e.value, count: e.count, dimensions: e.dimensions };
    return new CallResponse(text, bytes, contentType, flat);
  } finally {
    raw.llm_response_free(handle);
  }
}

/** A streamed chat: an async iterator of chat.completion.chunk objects. */
class ChatStream {
  #h;
  #id = 0;
  #queue = []; // chunks not yet given out: #queue[#head..]
  #head = 0;
  #waiters = [];
  #done = false;
  #error = null;
  #final = null;
  #signal;
  #onAbort = null;
  #chunks = 0;
  #closed = false; // return() was called: the iterator is over
  #ended = null; // finalResponse()'s wait for the end (never resolved with a chunk)

  // `start(onBatch, onDone)` starts the native stream (default: a streamed chat).
  constructor(h, json, signal, owner, start) {
    this.#h = h;
    this.#signal = signal;
    if (signal && signal.aborted) {
      this.#finish(abortError(signal), null);
      return;
    }
    // The addon hands over the chunks queued so far as one JSON array text, and
    // ends with (status, final response JSON | null, error | undefined).
    const onBatch = (batch) => this.#push(batch);
    const onDone = (status, text, error) => {
      if (status === LLM_OK) this.#finish(null, JSON.parse(text));
      else this.#finish(error, null);
    };
    const started = start ? start(onBatch, onDone) : internal.stream(h, json, onBatch, onDone, signal, owner);
    if (typeof started !== 'number') {
      this.#finish(started, null);
      return;
    }
    this.#id = started;
    if (signal) {
      this.#onAbort = () => this.cancel();
      signal.addEventListener('abort', this.#onAbort, { once: true });
    }
  }

  #push(batch) {
    if (this.#closed) return;
    const chunks = JSON.parse(batch);
    const n = chunks.length;
    this.#chunks += n;
    let i = 0;
    while (i < n && this.#waiters.length > 0) this.#waiters.shift().resolve({ value: chunks[i++], done: false });
    if (i === n) return;
    if (this.#head === this.#queue.length) {
      this.#queue = chunks;
      this.#head = i;
    } else {
      for (; i < n; i++) this.#queue.push(chunks[i]);
    }
  }

  #finish(error, final) {
    if (this.#done) return;
    this.#done = true;
    this.#error = error;
    this.#final = final;
    if (this.#onAbort) this.#signal.removeEventListener('abort', this.#onAbort);
    const waiters = this.#waiters.splice(0);
    if (error && waiters.length > 0) {
      // An error is thrown once (as next() does): to the first waiting next(); the rest end.
      this.#error = null;
      this.#errorSeen = error;
      waiters.shift().reject(error);
    }
    for (const w of waiters) w.resolve({ value: undefined, done: true });
    if (this.#ended) this.#ended.resolve();
  }

  /** Chunks received so far. */
  get chunkCount() {
    return this.#chunks;
  }

  next() {
    if (this.#closed) return Promise.resolve({ value: undefined, done: true });
    if (this.#head < this.#queue.length) {
      const value = this.#queue[this.#head];
      this.#queue[this.#head++] = undefined;
      if (this.#head === this.#queue.length) {
        this.#queue = [];
        this.#head = 0;
      }
      return Promise.resolve({ value, done: false });
    }
    if (this.#done) {
      if (this.#error) {
        const e = this.#error;
        this.#error = null; // an error is thrown once; then the stream is over
        this.#errorSeen = e;
        return Promise.reject(e);
      }
      return Promise.resolve({ value: undefined, done: true });
    }
    return new Promise((resolve, reject) => this.#waiters.push({ resolve, reject }));
  }

  #errorSeen = null;

  /** Cancels the transfer (the iterator then throws CancelledError). Any time, idempotent. */
  cancel() {
    if (!this.#done && this.#id !== 0) raw.llm_client_cancel(this.#h, this.#id);
  }

  /** Leaving a for-await loop early cancels the stream. */
  return() {
    this.cancel();
    this.#closed = true;
    this.#queue = [];
    this.#head = 0;
    this.#error = null;
    return Promise.resolve({ value: undefined, done: true });
  }

  [Symbol.asyncIterator]() {
    return this;
  }

  /** After the stream ended: the assembled response (as chat would give). Waits for the end. */
  async finalResponse() {
    if (!this.#done) {
      if (!this.#ended) {
        let resolve;
        const promise = new Promise((r) => { resolve = r; });
        this.#ended = { promise, resolve };
      }
      await this.#ended.promise;
    }
    if (this.#final) return this.#final;
    throw this.#error || this.#errorSeen || makeError(raw.LLM_ERR_INVALID_ARGUMENT, {}, 'the stream did not end normally');
  }
}

/**
 * A streamed call (Client.callStream): an async iterator of the endpoint's events (for
 * "responses.create" the Responses API's typed events, each with "type" and "sequence_number");
 * finalResponse() gives the final answer (the "response" object of response.completed).
 */
class CallStream extends ChatStream {}

/** Registers an OpenAI-compatible provider for every client made afterwards. */
function registerProvider(provider) {
  check(raw.llm_register_provider_e(null, toJson(provider, 'provider')));
}

function unregisterProvider(name) {
  check(raw.llm_unregister_provider_e(null, text(name, 'name')));
}

/** The providers of the global table. */
function providers() {
  return JSON.parse(check(raw.llm_providers_json_e(null)).out);
}

function version() {
  return raw.llm_version();
}

function versionNumber() {
  return raw.llm_version_number();
}

/** The status values by name (LLM_OK, LLM_ERR_...). */
const Status = raw.llm_status_values;

module.exports = {
  Client, ChatStream, CallStream, CallResponse, LiterLlmError, Status, version, versionNumber,
  registerProvider, unregisterProvider, providers, ...errorClasses,
};
