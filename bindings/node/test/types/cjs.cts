// Type check of the CommonJS entry point (tsc --noEmit; not run).
import literllm = require('literllm');

export function demo(): Promise<literllm.ChatResponse> {
  const c = literllm.Client.fromFile('x.toml');
  const p: literllm.RequestPreview = c.preview({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
  void p.headers;
  return c.chat('{"model":"m","messages":[]}');
}
