// A runnable example: chat, stream, an error and a cancellation against a server
// that speaks OpenAI's wire format (default: the local upstream on $LITERLLM_BASE_URL).
//   LITERLLM_BASE_URL=http://127.0.0.1:<port>/v1 node examples/chat.mjs
import { Client, RateLimitedError, CancelledError } from 'literllm';

const local = process.env.LITERLLM_BASE_URL;
const client = new Client({
  max_retries: 0,
  providers: {
    openai: {
      base_url: local ?? 'https://api.openai.com/v1',
      // The local upstream takes any key; OpenAI needs yours.
      api_key: process.env.OPENAI_API_KEY ?? (local ? 'sk-local-upstream' : undefined),
    },
  },
});
const request = { model: 'openai/gpt-4o-mini', messages: [{ role: 'user', content: 'Say hello' }] };

const response = await client.chat(request);
console.log(response.choices[0].message.content, response.usage);

let text = '';
for await (const chunk of client.stream(request)) text += chunk.choices[0]?.delta?.content ?? '';
console.log('streamed:', text);

try {
  await client.chat({ ...request, extra_headers: { 'x-upstream-status': '429', 'x-upstream-retry-after': '7' } });
} catch (e) {
  if (e instanceof RateLimitedError) console.log(`${e.name}: ${e.message} (HTTP ${e.httpStatus}, retry after ${e.retryAfterMs} ms)`);
  else throw e;
}

try {
  await client.chat({ ...request, extra_headers: { 'x-upstream-delay-ms': '5000' } }, { signal: AbortSignal.timeout(100) });
} catch (e) {
  if (e instanceof CancelledError) console.log(`${e.name}: ${e.message}`);
  else throw e;
}
client.close();
