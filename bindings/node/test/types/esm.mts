// Type check of the ESM entry point (tsc --noEmit; not run).
import { Client, CancelledError, RateLimitedError, type ChatChunk } from 'literllm';
import * as raw from 'literllm/raw';
import rawDefault, { llm_version } from 'literllm/raw';
import literllm from 'literllm';

export const defaultExportVersion: string = literllm.version();
export const rawVersions: (string | null)[] = [llm_version(), rawDefault.llm_version()];
export const configs = [
  new Client({ io_threads: 2 }),
  new Client({ providers: { vertex_ai: { project: 'p', location: 'europe-west4' }, bedrock: { region: 'us-east-1' },
    azure_openai: { api_version: '2024-10-21' }, cloudflare: { account_id: 'a' } } }),
];

export async function demo(): Promise<string | null | undefined> {
  using client = new Client({ providers: { openai: { base_url: 'http://127.0.0.1:1/v1' } } });
  const ac = new AbortController();
  try {
    const r = await client.chat({ model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'hi' }] }, { signal: ac.signal });
    for await (const chunk of client.stream({ model: 'm', messages: [] })) {
      const c: ChatChunk = chunk;
      void c.choices[0]?.delta.content;
    }
    const s: raw.llm_status = raw.llm_status_str(raw.LLM_ERR_TIMEOUT) === 'x' ? raw.LLM_OK : raw.LLM_ERR_TIMEOUT;
    void s;
    return r.choices[0]?.message.content as string | null;
  } catch (e) {
    if (e instanceof RateLimitedError) return String(e.retryAfterMs);
    if (e instanceof CancelledError) return e.statusName;
    throw e;
  }
}
