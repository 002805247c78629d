// Types of the idiomatic layer (the raw layer's declarations are generated: raw.d.cts).
// Requests and responses are the OpenAI chat-completions shapes; every model keeps an
// index signature, so fields it does not name pass through unchanged (or pass a JSON string).

export type Role = 'system' | 'developer' | 'user' | 'assistant' | 'tool';

export interface ContentPart {
  type: 'text' | 'image_url' | 'input_audio' | 'file' | 'document' | (string & {});
  text?: string;
  image_url?: { url: string; detail?: string };
  [field: string]: unknown;
}

export interface ToolCall {
  id: string;
  type: 'function';
  function: { name: string; arguments: string };
  [field: string]: unknown;
}

export interface Message {
  role: Role;
  content?: string | ContentPart[] | null;
  name?: string;
  tool_call_id?: string;
  tool_calls?: ToolCall[];
  refusal?: string | null;
  /**
   * An assistant turn's reasoning as text: an answer's, and sent back with it (DeepSeek's thinking mode
   * refuses a tool loop whose assistant turns lack it; the library drops it for the hosts that refuse the
   * field: groq, mistral, cerebras).
   */
  reasoning_content?: string | null;
  [field: string]: unknown;
}

export interface Tool {
  type: 'function';
  function: { name: string; description?: string; parameters?: Record<string, unknown>; strict?: boolean };
  [field: string]: unknown;
}

export interface ChatRequest {
  /** "provider/model", or a bare model for the client's model_hint provider. */
  model: string;
  messages: Message[];
  tools?: Tool[];
  tool_choice?: 'none' | 'auto' | 'required' | { type: 'function'; function: { name: string } };
  parallel_tool_calls?: boolean;
  response_format?: { type: 'text' | 'json_object' | 'json_schema'; json_schema?: Record<string, unknown> };
  temperature?: number;
  top_p?: number;
  n?: number;
  stop?: string | string[];
  max_tokens?: number;
  max_completion_tokens?: number;
  presence_penalty?: number;
  frequency_penalty?: number;
  logit_bias?: Record<string, number>;
  logprobs?: boolean;
  top_logprobs?: number;
  seed?: number;
  user?: string;
  reasoning_effort?: string;
  stream_options?: { include_usage?: boolean };
  metadata?: Record<string, string>;
  /** Fields added to the provider's request body (literllm extension). */
  extra_body?: Record<string, unknown>;
  /** Extra HTTP headers for this request (literllm extension). */
  extra_headers?: Record<string, string>;
  /** This request's whole timeout in seconds (literllm extension). */
  timeout_secs?: number;
  [field: string]: unknown;
}

export interface Usage {
  prompt_tokens: number;
  completion_tokens: number;
  total_tokens: number;
  prompt_tokens_details?: { cached_tokens?: number; [field: string]: unknown };
  [field: string]: unknown;
}

export interface Choice {
  index: number;
  message: Message;
  finish_reason: string | null;
  logprobs?: unknown;
  [field: string]: unknown;
}

export interface ChatResponse {
  id: string;
  object: 'chat.completion';
  created: number;
  model: string;
  choices: Choice[];
  usage?: Usage;
  system_fingerprint?: string;
  /** The provider's name (literllm). */
  provider: string;
  /** Wire statistics of the call (literllm). */
  stats: { bytes_sent: number; bytes_received: number; latency_ms: number; http_status: number; retries: number };
  [field: string]: unknown;
}

export interface ChunkChoice {
  index: number;
  delta: Partial<Message> & { tool_calls?: Array<Partial<ToolCall> & { index: number }> };
  finish_reason: string | null;
  [field: string]: unknown;
}

export interface ChatChunk {
  id: string;
  object: 'chat.completion.chunk';
  created: number;
  model: string;
  choices: ChunkChoice[];
  usage?: Usage | null;
  [field: string]: unknown;
}

/** One entry of ClientConfig.providers: key, URL, headers, and the provider's own settings. */
export interface ProviderConfig {
  api_key?: string;
  base_url?: string;
  headers?: Record<string, string>;
  /** vertex_ai */
  project?: string;
  location?: string;
  credentials_file?: string;
  access_token?: string;
  /** bedrock */
  region?: string;
  aws_access_key_id?: string;
  aws_secret_access_key?: string;
  aws_session_token?: string;
  /** azure_openai */
  api_version?: string;
  azure_ad_token?: string;
  /** cloudflare, cloudflare_ai_gateway */
  account_id?: string;
  gateway_id?: string;
  /** Settings of providers added later (llm_providers_json lists each provider's). */
  [setting: string]: unknown;
}

/** The config of llm_client_new (see include/literllm.h). */
export interface ClientConfig {
  api_key?: string;
  base_url?: string;
  model_hint?: string;
  timeout_secs?: number;
  connect_timeout_secs?: number;
  stream_idle_timeout_secs?: number;
  max_retries?: number;
  providers?: Record<string, ProviderConfig>;
  headers?: Record<string, string>;
  max_response_bytes?: number;
  max_stream_bytes?: number;
  max_event_bytes?: number;
  max_choices?: number;
  max_tool_calls?: number;
  max_header_bytes?: number;
  /**
   * Where the client's loop runs. `Client` defaults to "host": on the JS thread, driven by the
   * event loop (one thread wake-up per answer). "thread": the client's own I/O thread (what the
   * raw layer's llm_client_new gives by default). A config that sets io_threads and not io gets
   * "thread".
   */
  io?: 'host' | 'thread';
  /** The most event loops (each with its own I/O thread) the client spreads its calls over, 0..64. */
  io_threads?: number;
  /** Fields of later versions of the library. */
  [field: string]: unknown;
}

export interface ProviderRegistration {
  name: string;
  base_url: string;
  prefixes: string[];
  auth?: 'bearer' | 'none' | { header: string };
  api_key?: string;
  api_key_env?: string;
  headers?: Record<string, string>;
}

export interface ProviderInfo {
  name: string;
  aliases: string[];
  base_url: string;
  auth: unknown;
  api_key_env: string | null;
  prefixes: string[];
  registered: boolean;
  [field: string]: unknown;
}

export interface RequestPreview {
  provider: string;
  method: string;
  url: string;
  headers: Record<string, string>;
  /** The exact request body text. */
  body: string;
}

export interface CallOptions {
  /** Aborting cancels the transfer in the library; the call rejects with CancelledError (cause: the reason). */
  signal?: AbortSignal;
}

/**
 * A client: its connections and its loop, shared by any number of calls. The loop runs on the JS
 * thread, driven by the event loop, unless the config says `io: 'thread'`.
 */
export declare class Client implements Disposable {
  /** A config object or its JSON text; nothing for all defaults. Throws on an invalid config. */
  constructor(config?: ClientConfig | string | null);
  /** A client from a config file: TOML when the path ends in ".toml", else JSON. */
  static fromFile(path: string): Client;
  /** Frees the client; calls in flight reject with CancelledError. Idempotent. */
  close(): void;
  [Symbol.dispose](): void;
  readonly closed: boolean;
  /** Sends a chat request without blocking the event loop. */
  chat(request: ChatRequest | string, options?: CallOptions): Promise<ChatResponse>;
  /** A streamed chat: `for await (const chunk of client.stream(req))`. */
  stream(request: ChatRequest | string, options?: CallOptions): ChatStream;
  /** What a call would send, credentials replaced by "[REDACTED]". */
  preview(request: ChatRequest | string, options?: { stream?: boolean }): RequestPreview;
  /**
   * Calls any endpoint of llm_call ("embeddings", "models", "audio.speech", ...). `uploads` are
   * referenced from the request as {"data": index, "filename": ...}; they are read in place and
   * must not change before the promise settles.
   */
  call(endpoint: string, request?: object | string, uploads?: ReadonlyArray<ArrayBufferView | ArrayBuffer> | null,
    options?: CallOptions): Promise<CallResponse>;
  /** What call would send (uploads as multipart "parts"), credentials redacted. */
  previewCall(endpoint: string, request?: object | string,
    uploads?: ReadonlyArray<ArrayBufferView | ArrayBuffer> | null): Record<string, unknown>;
  /** One Float32Array per input, in input order. */
  embed(input: string | string[], request?: Record<string, unknown>, options?: CallOptions): Promise<Float32Array[]>;
  /** A provider's models (OpenAI's model list's "data"); the client's provider by default. */
  models(provider?: string, options?: CallOptions): Promise<ModelInfo[]>;
  /** Speech for `input` as audio bytes. */
  speech(input: string, request?: Record<string, unknown>, options?: CallOptions): Promise<Buffer>;
  /** Text of an audio file given by path or bytes (request.filename names bytes; "audio.mp3" by default). */
  transcribe(file: string | ArrayBufferView | ArrayBuffer, request?: Record<string, unknown> & { filename?: string },
    options?: CallOptions): Promise<Record<string, unknown>>;
  /**
   * A streamed call (llm_call_stream): "responses.create" or "chat". `for await (const event of
   * client.callStream(...))`, then `await stream.finalResponse()`; options.signal cancels it.
   */
  callStream(endpoint: string, request?: object | string, uploads?: ReadonlyArray<ArrayBufferView | ArrayBuffer> | null,
    options?: CallOptions): CallStream;
  /** images.generations: images for `prompt` ("model", "n", "size", ... in request). */
  generateImage(prompt: string, request?: Record<string, unknown>, options?: CallOptions): Promise<any>;
  /** moderations: one result per input. */
  moderate(input: unknown, request?: Record<string, unknown>, options?: CallOptions): Promise<any>;
  /** rerank: `documents` ordered by relevance to `query`, most relevant first. */
  rerank(query: string, documents: string[], request?: Record<string, unknown>, options?: CallOptions): Promise<any>;
  /** search: web results for `query`. */
  search(query: string, request?: Record<string, unknown>, options?: CallOptions): Promise<any>;
  /** files.create from a path or bytes (request.filename names bytes). */
  createFile(file: string | ArrayBufferView | ArrayBuffer, purpose: string,
    request?: Record<string, unknown> & { filename?: string }, options?: CallOptions): Promise<any>;
  retrieveFile(id: string, request?: Record<string, unknown>, options?: CallOptions): Promise<any>;
  listFiles(request?: Record<string, unknown>, options?: CallOptions): Promise<any>;
  deleteFile(id: string, request?: Record<string, unknown>, options?: CallOptions): Promise<any>;
  /** files.content: the file's bytes. */
  fileContent(id: string, request?: Record<string, unknown>, options?: CallOptions): Promise<Buffer>;
  /** batches.create ("completion_window" "24h" unless request says). */
  createBatch(inputFileId: string, endpoint: string, request?: Record<string, unknown>, options?: CallOptions): Promise<any>;
  retrieveBatch(id: string, request?: Record<string, unknown>, options?: CallOptions): Promise<any>;
  listBatches(request?: Record<string, unknown>, options?: CallOptions): Promise<any>;
  cancelBatch(id: string, request?: Record<string, unknown>, options?: CallOptions): Promise<any>;
  /** responses.create (OpenAI's Responses API), answered whole. */
  createResponse(request: Record<string, unknown> | string, options?: CallOptions): Promise<any>;
  /** responses.create streamed. */
  streamResponse(request: Record<string, unknown> | string, options?: CallOptions): CallStream;
  retrieveResponse(id: string, request?: Record<string, unknown>, options?: CallOptions): Promise<any>;
  cancelResponse(id: string, request?: Record<string, unknown>, options?: CallOptions): Promise<any>;
  deleteResponse(id: string, request?: Record<string, unknown>, options?: CallOptions): Promise<any>;
  providers(): ProviderInfo[];
  registerProvider(provider: ProviderRegistration | string): void;
  unregisterProvider(name: string): void;
}

/** One event of a streamed call (for "responses.create": "response.created", "response.output_text.delta", ...). */
export interface CallEvent {
  type: string;
  sequence_number?: number;
  [field: string]: any;
}

/** A streamed call: an async iterator of the endpoint's events, then the final answer. */
export declare class CallStream implements AsyncIterableIterator<CallEvent> {
  private constructor();
  /** Events received so far. */
  readonly chunkCount: number;
  next(): Promise<IteratorResult<CallEvent, undefined>>;
  /** Leaving a for-await loop early cancels the transfer. */
  return(): Promise<IteratorResult<CallEvent, undefined>>;
  [Symbol.asyncIterator](): CallStream;
  /** Cancels the transfer: the iterator then throws CancelledError. */
  cancel(): void;
  /** The final answer (for "responses.create" the "response" object) once the stream ended normally. */
  finalResponse(): Promise<any>;
}

export interface ModelInfo {
  id: string;
  object?: string;
  owned_by?: string;
  [field: string]: unknown;
}

/** The answer of Client.call. */
export declare class CallResponse {
  private constructor();
  /** The answer's JSON (OpenAI's shape plus provider and stats), parsed once. */
  readonly json: any;
  /** The answer's JSON text. */
  readonly text: string;
  /** A binary answer's bytes (audio.speech, files.content); null for a JSON answer. */
  readonly bytes: Buffer | null;
  /** A binary answer's Content-Type; null for a JSON answer. */
  readonly contentType: string | null;
  /** One Float32Array per vector; [] when the answer holds none. */
  embeddings(): Float32Array[];
  /** The vectors as one row-major array; null when the answer holds none. */
  embeddingsFlat(): { data: Float32Array; count: number; dimensions: number } | null;
}

export declare class ChatStream implements AsyncIterableIterator<ChatChunk> {
  private constructor();
  /** Chunks received so far. */
  readonly chunkCount: number;
  next(): Promise<IteratorResult<ChatChunk, undefined>>;
  /** Leaving a for-await loop early cancels the transfer. */
  return(): Promise<IteratorResult<ChatChunk, undefined>>;
  [Symbol.asyncIterator](): ChatStream;
  /** Cancels the transfer: the iterator then throws CancelledError. */
  cancel(): void;
  /** The assembled response (content, tool calls joined, usage) once the stream ended normally. */
  finalResponse(): Promise<ChatResponse>;
}

/** Base of every error the library reports; `status` is an llm_status value. */
export declare class LiterLlmError extends Error {
  readonly status: number;
  /** The status's constant name ("LLM_ERR_TIMEOUT"). */
  readonly statusName: string;
  /** The HTTP status the provider answered with, or 0. */
  readonly httpStatus: number;
  readonly provider: string | null;
  /** The provider's own error code and type, when it gave them. */
  readonly code: string | null;
  readonly type: string | null;
  /** Retry-After in milliseconds, or -1. */
  readonly retryAfterMs: number;
  readonly retries: number;
}
export declare class InvalidArgumentError extends LiterLlmError {}
export declare class AuthenticationError extends LiterLlmError {}
export declare class RateLimitedError extends LiterLlmError {}
export declare class BadRequestError extends LiterLlmError {}
export declare class ContextWindowExceededError extends LiterLlmError {}
export declare class ContentPolicyError extends LiterLlmError {}
export declare class NotFoundError extends LiterLlmError {}
export declare class ServerError extends LiterLlmError {}
export declare class ServiceUnavailableError extends LiterLlmError {}
export declare class TimeoutError extends LiterLlmError {}
export declare class StreamingError extends LiterLlmError {}
export declare class EndpointNotSupportedError extends LiterLlmError {}
export declare class InvalidHeaderError extends LiterLlmError {}
export declare class SerializationError extends LiterLlmError {}
export declare class BudgetExceededError extends LiterLlmError {}
export declare class HookRejectedError extends LiterLlmError {}
export declare class NetworkError extends LiterLlmError {}
export declare class CancelledError extends LiterLlmError {}
export declare class InternalError extends LiterLlmError {}
export declare class LimitExceededError extends LiterLlmError {}
export declare class OutOfMemoryError extends LiterLlmError {}

/** The llm_status values by name. */
export declare const Status: { readonly [name: string]: number };
export declare function version(): string;
export declare function versionNumber(): number;
/** Registers a provider for every client made afterwards. */
export declare function registerProvider(provider: ProviderRegistration | string): void;
export declare function unregisterProvider(name: string): void;
/** The global provider table. */
export declare function providers(): ProviderInfo[];
