// Type check of the CommonJS entry point (tsc --noEmit; not run).
import literllm = require('literllm');

export function demo(): Promise<literllm.ChatResponse> {
  const c = literllm.Client.fromFile('x.toml');
  const p: literllm.RequestPreview = c.preview({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
  void p.headers;
  return c.chat('{"model":"m","messages":[]}');
}

export async function calls(c: literllm.Client): Promise<number> {
  const r: literllm.CallResponse = await c.call('audio.transcriptions', { model: 'openai/whisper-1', file: { data: 0, filename: 'a.wav' } },
    [Buffer.from('x'), new Uint8Array(2)], { signal: AbortSignal.timeout(1000) });
  const vectors: Float32Array[] = await c.embed(['a', 'b'], { model: 'openai/text-embedding-3-small' });
  const models: literllm.ModelInfo[] = await c.models('openai');
  const audio: Buffer = await c.speech('hi', { model: 'openai/tts-1', voice: 'alloy' });
  const flat = r.embeddingsFlat();
  return vectors.length + models.length + audio.length + (r.bytes?.length ?? 0) + (flat ? flat.count : 0) +
    (r.contentType ?? '').length + String(r.json.text).length;
}

// A tool loop: the answer's message goes back as it came, its reasoning_content declared (no cast).
export async function toolLoop(c: literllm.Client, req: literllm.ChatRequest): Promise<string | null | undefined> {
  const m: literllm.Message = (await c.chat(req)).choices[0]!.message;
  const reasoning: string | null | undefined = m.reasoning_content;
  const back: literllm.Message = { role: 'assistant', content: m.content, tool_calls: m.tool_calls, reasoning_content: reasoning };
  const results = (m.tool_calls ?? []).map((t): literllm.Message => ({ role: 'tool', tool_call_id: t.id, content: 'sunny' }));
  const r = await c.chat({ ...req, messages: [...req.messages, back, ...results] });
  return r.choices[0]?.message.reasoning_content;
}
