//! Runs every scenario of tests/scenarios/scenarios.json against the local
//! upstream, each as its own test case: blocking API, and the async API
//! (tokio) for the kinds that have an async form. A scenario this runner
//! cannot run fails. Arguments: substrings that select tests; `--list`.

mod common;

use std::io::Write;
use std::sync::mpsc;
use std::thread;
use std::time::{Duration, Instant};

use futures::StreamExt;
use literllm::{ChatRequest, ChatResponse, Client, Content, Error, Message};
use serde_json::{json, Map, Value};

type Outcome = Result<(), String>;

/// Replaces every "{key}" of `subs` in the strings of `v`.
fn subst(v: &Value, subs: &[(&str, String)]) -> Value {
    match v {
        Value::String(s) => {
            let mut s = s.clone();
            for (k, r) in subs {
                s = s.replace(&format!("{{{k}}}"), r);
            }
            Value::String(s)
        }
        Value::Array(a) => Value::Array(a.iter().map(|x| subst(x, subs)).collect()),
        Value::Object(o) => Value::Object(o.iter().map(|(k, x)| (k.clone(), subst(x, subs))).collect()),
        other => other.clone(),
    }
}

struct Ctx {
    base_url: String,
    client_config: Value,
}

impl Ctx {
    fn subs(&self) -> Vec<(&'static str, String)> {
        vec![("base_url", self.base_url.clone())]
    }

    fn client(&self, sc: &Value) -> Result<Client, String> {
        let mut cfg = subst(&self.client_config, &self.subs());
        if let (Some(extra), Some(obj)) = (sc.get("config").and_then(Value::as_object), cfg.as_object_mut()) {
            for (k, v) in extra {
                obj.insert(k.clone(), subst(v, &self.subs()));
            }
        }
        Client::new(&cfg).map_err(|e| format!("client: {e}"))
    }

    fn request(&self, sc: &Value, extra: &[(&str, String)]) -> Result<ChatRequest, String> {
        let mut subs = self.subs();
        for (k, v) in extra {
            subs.push((k, v.clone()));
        }
        let r = subst(sc.get("request").ok_or("scenario has no request")?, &subs);
        serde_json::from_value(r).map_err(|e| format!("request does not fit ChatRequest: {e}"))
    }
}

fn expect_map(sc: &Value) -> Map<String, Value> {
    sc.get("expect").and_then(Value::as_object).cloned().unwrap_or_default()
}

fn eq(what: &str, got: impl Into<Value>, want: &Value) -> Outcome {
    let got = got.into();
    if &got == want {
        Ok(())
    } else {
        Err(format!("{what}: got {got}, want {want}"))
    }
}

/// What a chat or a stream produced, for checking against `expect`.
#[derive(Default)]
struct Observed {
    response: Option<ChatResponse>,
    error: Option<Error>,
    chunks: usize,
    joined: Option<String>,
    elapsed: Duration,
}

fn check(obs: &Observed, expect: &Map<String, Value>) -> Outcome {
    let want_status = expect.get("status").and_then(Value::as_str).unwrap_or("LLM_OK");
    match (&obs.error, want_status) {
        (None, "LLM_OK") => {}
        (Some(e), "LLM_OK") => return Err(format!("status: got {e}, want LLM_OK")),
        (None, w) => return Err(format!("status: got LLM_OK, want {w}")),
        (Some(e), w) => eq("status", e.status().name(), &json!(w))?,
    }
    for (k, want) in expect {
        match k.as_str() {
            "status" => {}
            "text" => {
                if let Some(j) = &obs.joined {
                    eq("joined chunk text", j.clone(), want)?;
                }
                let r = obs.response.as_ref().ok_or("text: no response")?;
                eq("text", r.text().map(str::to_owned), want)?;
            }
            "text_json" => {
                let r = obs.response.as_ref().ok_or("text_json: no response")?;
                let t = r.text().ok_or("text_json: no content")?;
                let v: Value = serde_json::from_str(t).map_err(|e| format!("text_json: {e}: {t}"))?;
                eq("text_json", v, want)?;
            }
            "reasoning_content" => {
                let got = obs
                    .response
                    .as_ref()
                    .and_then(|r| r.choices.first())
                    .and_then(|c| c.message.extra.get("reasoning_content"))
                    .and_then(Value::as_str)
                    .unwrap_or("");
                eq("reasoning_content", got, want)?;
            }
            "finish_reason" => {
                let r = obs.response.as_ref().ok_or("finish_reason: no response")?;
                eq("finish_reason", r.finish_reason().map(str::to_owned), want)?;
            }
            "prompt_tokens" | "completion_tokens" => {
                let r = obs.response.as_ref().ok_or("usage: no response")?;
                let u = r.usage.as_ref().ok_or("no usage")?;
                let got = if k == "prompt_tokens" { u.prompt_tokens } else { u.completion_tokens };
                eq(k, got, want)?;
            }
            "tool_calls" => {
                let r = obs.response.as_ref().ok_or("tool_calls: no response")?;
                let got: Vec<Value> = r
                    .tool_calls()
                    .iter()
                    .map(|c| {
                        let args: Value = serde_json::from_str(&c.function.arguments).unwrap_or(Value::Null);
                        json!({"id": c.id, "type": c.kind, "function": {"name": c.function.name, "arguments": args}})
                    })
                    .collect();
                eq("tool_calls", Value::Array(got), want)?;
            }
            "provider" => match (&obs.response, &obs.error) {
                (Some(r), _) => eq("provider", r.provider.clone(), want)?,
                (None, Some(e)) => eq("provider", e.info().provider.clone(), want)?,
                _ => return Err("provider: nothing to check".into()),
            },
            "http_status" => {
                let e = obs.error.as_ref().ok_or("http_status: no error")?;
                eq("http_status", e.info().http_status, want)?;
            }
            "message_contains" => {
                let e = obs.error.as_ref().ok_or("message_contains: no error")?;
                let w = want.as_str().unwrap_or_default();
                if !e.message().contains(w) {
                    return Err(format!("message {:?} lacks {w:?}", e.message()));
                }
            }
            "message_excludes" => {
                let e = obs.error.as_ref().ok_or("message_excludes: no error")?;
                let w = want.as_str().unwrap_or_default();
                if e.message().contains(w) || format!("{e:?}").contains(w) {
                    return Err(format!("the error shows {w:?}"));
                }
            }
            "retry_after_ms" => {
                let e = obs.error.as_ref().ok_or("retry_after_ms: no error")?;
                eq("retry_after_ms", e.retry_after().map(|d| d.as_millis() as u64), want)?;
            }
            "code" => {
                let e = obs.error.as_ref().ok_or("code: no error")?;
                eq("code", e.info().code.clone(), want)?;
            }
            "type" => {
                let e = obs.error.as_ref().ok_or("type: no error")?;
                eq("type", e.info().error_type.clone(), want)?;
            }
            "min_chunks" => {
                let m = want.as_u64().unwrap_or(0) as usize;
                if obs.chunks < m {
                    return Err(format!("chunks: got {}, want at least {m}", obs.chunks));
                }
            }
            "within_ms" => {
                let m = want.as_u64().unwrap_or(0);
                if obs.elapsed > Duration::from_millis(m) {
                    return Err(format!("took {:?}, want within {m} ms", obs.elapsed));
                }
            }
            other => return Err(format!("this runner does not know the expectation {other:?}")),
        }
    }
    Ok(())
}

fn observe_chat(r: Result<ChatResponse, Error>) -> Observed {
    match r {
        Ok(resp) => Observed { response: Some(resp), ..Observed::default() },
        Err(e) => Observed { error: Some(e), ..Observed::default() },
    }
}

/// Kind "tool_loop", between its two chats: checks `first_expect` against the
/// first answer, then gives the next request: `req` with the answer's message
/// as `to_message` gives it back and one tool message (`tool_result`) per tool
/// call. `expect` is checked against the answer to that request.
fn tool_loop_next(sc: &Value, mut req: ChatRequest, first: Result<ChatResponse, Error>) -> Result<ChatRequest, String> {
    let first_expect = sc.get("first_expect").and_then(Value::as_object).cloned().unwrap_or_default();
    let obs = observe_chat(first);
    check(&obs, &first_expect).map_err(|e| format!("first answer: {e}"))?;
    let resp = obs.response.ok_or("first answer: no response")?;
    let message = &resp.choices.first().ok_or("first answer: no message")?.message;
    req.messages.push(message.to_message());
    let result = sc.get("tool_result").and_then(Value::as_str).ok_or("no tool_result")?;
    for call in resp.tool_calls() {
        req.messages.push(Message {
            role: "tool".into(),
            content: Some(Content::Text(result.into())),
            tool_call_id: Some(call.id.clone()),
            ..Message::default()
        });
    }
    Ok(req)
}

/// Kind "call": the shared expectations on the error (or none), then the
/// answer's (object, ids_include, vectors, dimensions, content_type, min_bytes).
fn check_call(r: Result<literllm::Response, Error>, expect: &Map<String, Value>) -> Outcome {
    const CALL_KEYS: [&str; 8] =
        ["object", "ids_include", "vectors", "dimensions", "content_type", "min_bytes", "fields", "lengths"];
    let shared: Map<String, Value> =
        expect.iter().filter(|(k, _)| !CALL_KEYS.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
    let (resp, error) = match r {
        Ok(resp) => (Some(resp), None),
        Err(e) => (None, Some(e)),
    };
    check(&Observed { error, ..Observed::default() }, &shared)?;
    let resp = match resp {
        Some(r) => r,
        None => return Ok(()),
    };
    let answer = resp.value().map_err(|e| format!("answer: {e}"))?;
    let (flat, count, dims) = resp.embeddings_flat();
    for (k, want) in expect.iter().filter(|(k, _)| CALL_KEYS.contains(&k.as_str())) {
        match k.as_str() {
            "object" => eq("object", answer.get("object").cloned().unwrap_or(Value::Null), want)?,
            "ids_include" => {
                for id in want.as_array().into_iter().flatten() {
                    let data = answer.get("data").and_then(Value::as_array).cloned().unwrap_or_default();
                    if !data.iter().any(|m| m.get("id") == Some(id)) {
                        return Err(format!("no model {id} in {answer}"));
                    }
                }
            }
            "vectors" => {
                eq("vectors", count, want)?;
                eq("embeddings()", resp.embeddings().len(), want)?;
            }
            "dimensions" => {
                eq("dimensions", dims, want)?;
                eq("floats", flat.len(), &json!(count * dims))?;
            }
            "content_type" => eq("content_type", resp.content_type().map(str::to_owned), want)?,
            "min_bytes" => {
                let n = resp.bytes().map_or(0, <[u8]>::len) as u64;
                if n < want.as_u64().unwrap_or(0) {
                    return Err(format!("bytes: got {n}, want at least {want}"));
                }
            }
            "fields" | "lengths" => check_paths(k, want, &answer)?,
            _ => {}
        }
    }
    Ok(())
}

/// The value at a path "a.0.b" (digits index arrays).
fn at_path<'a>(v: &'a Value, path: &str) -> Option<&'a Value> {
    path.split('.').try_fold(v, |v, seg| match v {
        Value::Array(a) => seg.parse::<usize>().ok().and_then(|i| a.get(i)),
        Value::Object(o) => o.get(seg),
        _ => None,
    })
}

/// Expect "fields" (path: value) or "lengths" (path: array length).
fn check_paths(k: &str, want: &Value, answer: &Value) -> Outcome {
    for (path, w) in want.as_object().into_iter().flatten() {
        let got = at_path(answer, path);
        if k == "lengths" {
            eq(&format!("lengths.{path}"), got.and_then(Value::as_array).map(Vec::len), w)?;
        } else {
            eq(&format!("fields.{path}"), got.cloned().unwrap_or(Value::Null), w)?;
        }
    }
    Ok(())
}

/// A scenario's "uploads": {"base64"} or {"text"} each.
fn uploads(sc: &Value) -> Result<Vec<Vec<u8>>, String> {
    let mut out = Vec::new();
    for u in sc.get("uploads").and_then(Value::as_array).into_iter().flatten() {
        if let Some(b) = u.get("base64").and_then(Value::as_str) {
            out.push(base64_decode(b)?);
        } else {
            out.push(
                u.get("text").and_then(Value::as_str).ok_or("an upload without base64 or text")?.as_bytes().to_vec(),
            );
        }
    }
    Ok(out)
}

fn base64_decode(s: &str) -> Result<Vec<u8>, String> {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let (mut out, mut acc, mut bits) = (Vec::new(), 0u32, 0u32);
    for c in s.bytes().filter(|&c| c != b'=') {
        let v = ALPHABET.iter().position(|&a| a == c).ok_or_else(|| format!("not base64: {c}"))? as u32;
        acc = (acc << 6) | v;
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Ok(out)
}

/// The text of a Responses API response: its "output_text" parts joined.
fn responses_text(r: &Value) -> String {
    let mut text = String::new();
    for item in r.get("output").and_then(Value::as_array).into_iter().flatten() {
        for part in item.get("content").and_then(Value::as_array).into_iter().flatten() {
            if part.get("type").and_then(Value::as_str) == Some("output_text") {
                text.push_str(part.get("text").and_then(Value::as_str).unwrap_or(""));
            }
        }
    }
    text
}

/// Kind "call_stream": checks each event as it comes; `fold` collects the
/// joined deltas, the event types and the last sequence number.
#[derive(Default)]
struct StreamSeen {
    chunks: usize,
    joined: String,
    types: Vec<String>,
    last_seq: Option<i64>,
}

impl StreamSeen {
    fn add(&mut self, ev: &Value) -> Outcome {
        self.chunks += 1;
        let ty = ev.get("type").and_then(Value::as_str).ok_or_else(|| format!("an event without type: {ev}"))?;
        let seq =
            ev.get("sequence_number").and_then(Value::as_i64).ok_or_else(|| format!("no sequence_number: {ev}"))?;
        if self.last_seq.map_or(false, |l| seq <= l) {
            return Err(format!("sequence_number {seq} after {:?}", self.last_seq));
        }
        self.last_seq = Some(seq);
        if ty == "response.output_text.delta" {
            self.joined.push_str(ev.get("delta").and_then(Value::as_str).unwrap_or(""));
        }
        self.types.push(ty.to_owned());
        Ok(())
    }

    fn check(&self, r: Result<Option<&literllm::Response>, Error>, expect: &Map<String, Value>) -> Outcome {
        const KEYS: [&str; 4] = ["text", "final_status", "event_types", "min_chunks"];
        let shared: Map<String, Value> =
            expect.iter().filter(|(k, _)| !KEYS.contains(&k.as_str())).map(|(k, v)| (k.clone(), v.clone())).collect();
        let (resp, error) = match r {
            Ok(r) => (r, None),
            Err(e) => (None, Some(e)),
        };
        check(&Observed { error, ..Observed::default() }, &shared)?;
        let resp = match resp {
            Some(r) => r,
            None if expect.get("status").and_then(Value::as_str).unwrap_or("LLM_OK") == "LLM_OK" => {
                return Err("no final response".into())
            }
            None => return Ok(()),
        };
        let answer = resp.value().map_err(|e| format!("final response: {e}"))?;
        eq("final response text", responses_text(&answer), &json!(self.joined))?;
        for (k, want) in expect {
            match k.as_str() {
                "text" => eq("joined deltas", self.joined.clone(), want)?,
                "final_status" => eq("final_status", answer.get("status").cloned().unwrap_or(Value::Null), want)?,
                "min_chunks" if (self.chunks as u64) < want.as_u64().unwrap_or(0) => {
                    return Err(format!("chunks: got {}, want at least {want}", self.chunks));
                }
                "event_types" => {
                    for t in want.as_array().into_iter().flatten() {
                        if !self.types.iter().any(|x| Some(x.as_str()) == t.as_str()) {
                            return Err(format!("no event {t}"));
                        }
                    }
                }
                _ => {}
            }
        }
        Ok(())
    }
}

/// Kind "batch": files.create, batches.create, batches.retrieve until done,
/// files.content, through the binding's conveniences.
fn run_batch(client: &Client, sc: &Value) -> Outcome {
    let expect = expect_map(sc);
    let provider = sc.get("provider").and_then(Value::as_str);
    let up = sc.get("upload").ok_or("no upload")?;
    let s = |v: &Value, k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_owned();
    let result = (|| -> Result<(String, Vec<u8>), Error> {
        let file = client.create_file(
            provider,
            &s(up, "purpose"),
            &s(up, "filename"),
            s(up, "content").as_bytes(),
            &Value::Null,
        )?;
        let mut fields = sc.get("batch").cloned().unwrap_or(json!({}));
        let endpoint = s(&fields, "endpoint");
        if let Some(o) = fields.as_object_mut() {
            o.remove("endpoint");
        }
        let mut batch = client.create_batch(provider, &s(&file, "id"), &endpoint, &fields)?;
        let id = s(&batch, "id");
        for _ in 0..sc.get("max_polls").and_then(Value::as_u64).unwrap_or(10) {
            batch = client.retrieve_batch(provider, &id)?;
            if ["completed", "failed", "expired", "cancelled"].contains(&s(&batch, "status").as_str()) {
                break;
            }
        }
        let status = s(&batch, "status");
        if status != "completed" {
            return Ok((status, Vec::new()));
        }
        let (bytes, _) = client.file_content(provider, &s(&batch, "output_file_id"))?;
        Ok((status, bytes))
    })();
    let (status, output, error) = match result {
        Ok((st, out)) => (st, String::from_utf8_lossy(&out).into_owned(), None),
        Err(e) => (String::new(), String::new(), Some(e)),
    };
    let shared: Map<String, Value> =
        expect.iter().filter(|(k, _)| k.as_str() == "status").map(|(k, v)| (k.clone(), v.clone())).collect();
    check(&Observed { error, ..Observed::default() }, &shared)?;
    for (k, want) in &expect {
        match k.as_str() {
            "status" => {}
            "batch_status" => eq("batch_status", status.clone(), want)?,
            "output_lines" => eq("output_lines", output.lines().filter(|l| !l.trim().is_empty()).count(), want)?,
            "output_contains" => {
                for t in want.as_array().into_iter().flatten() {
                    if !output.contains(t.as_str().unwrap_or("")) {
                        return Err(format!("the output lacks {t}: {output}"));
                    }
                }
            }
            other => return Err(format!("this runner does not know the expectation {other:?}")),
        }
    }
    Ok(())
}

fn call_parts(ctx: &Ctx, sc: &Value) -> Result<(String, String), String> {
    let endpoint = sc.get("endpoint").and_then(Value::as_str).ok_or("no endpoint")?.to_owned();
    let request = subst(sc.get("request").unwrap_or(&json!({})), &ctx.subs());
    Ok((endpoint, request.to_string()))
}

// ---------------------------------------------------------------- blocking

fn run_blocking(ctx: &Ctx, sc: &Value) -> Outcome {
    let kind = sc.get("kind").and_then(Value::as_str).unwrap_or("");
    let expect = expect_map(sc);
    match kind {
        "chat" => {
            let client = ctx.client(sc)?;
            check(&observe_chat(client.chat(&ctx.request(sc, &[])?)), &expect)
        }
        "stream" => {
            let client = ctx.client(sc)?;
            let mut obs = Observed::default();
            match client.stream(&ctx.request(sc, &[])?) {
                Err(e) => obs.error = Some(e),
                Ok(mut s) => {
                    let mut text = String::new();
                    for item in s.by_ref() {
                        match item {
                            Ok(c) => {
                                obs.chunks += 1;
                                text.push_str(c.text().unwrap_or(""));
                            }
                            Err(e) => {
                                obs.error = Some(e);
                                break;
                            }
                        }
                    }
                    if obs.error.is_none() {
                        obs.joined = Some(text);
                        obs.response = Some(s.final_response().map_err(|e| format!("final_response: {e}"))?);
                    }
                }
            }
            check(&obs, &expect)
        }
        "tool_loop" => {
            let client = ctx.client(sc)?;
            let req = ctx.request(sc, &[])?;
            let next = tool_loop_next(sc, req.clone(), client.chat(&req))?;
            check(&observe_chat(client.chat(&next)), &expect)
        }
        "cancel_stream" => {
            let client = ctx.client(sc)?;
            let start = Instant::now();
            let mut s = client.stream(&ctx.request(sc, &[])?).map_err(|e| format!("stream: {e}"))?;
            let mut obs = Observed::default();
            match s.next() {
                Some(Ok(_)) => obs.chunks += 1,
                other => return Err(format!("first chunk: {other:?}")),
            }
            let canceller = s.canceller();
            thread::spawn(move || canceller.cancel()).join().map_err(|_| "cancel thread panicked")?;
            for item in s.by_ref() {
                match item {
                    Ok(_) => obs.chunks += 1,
                    Err(e) => {
                        obs.error = Some(e);
                        break;
                    }
                }
            }
            obs.elapsed = start.elapsed();
            check(&obs, &expect)
        }
        "concurrent" => {
            let client = ctx.client(sc)?;
            let callers = sc.get("callers").and_then(Value::as_u64).ok_or("no callers")?;
            let calls = sc.get("calls_each").and_then(Value::as_u64).ok_or("no calls_each")?;
            let results: Vec<Outcome> = thread::scope(|scope| {
                let handles: Vec<_> = (0..callers)
                    .map(|caller| {
                        let client = client.clone();
                        scope.spawn(move || -> Outcome {
                            for call in 0..calls {
                                let subs = [("caller", caller.to_string()), ("call", call.to_string())];
                                let req = ctx.request(sc, &subs)?;
                                let exp = subst(&Value::Object(expect_map(sc)), &subs);
                                let exp = exp.as_object().cloned().unwrap_or_default();
                                check(&observe_chat(client.chat(&req)), &exp)
                                    .map_err(|e| format!("caller {caller} call {call}: {e}"))?;
                            }
                            Ok(())
                        })
                    })
                    .collect();
                handles.into_iter().map(|h| h.join().unwrap_or_else(|_| Err("caller panicked".into()))).collect()
            });
            results.into_iter().collect()
        }
        "call" => {
            let client = ctx.client(sc)?;
            let (endpoint, request) = call_parts(ctx, sc)?;
            let data = uploads(sc)?;
            let refs: Vec<&[u8]> = data.iter().map(Vec::as_slice).collect();
            check_call(client.call_json(&endpoint, &request, &refs), &expect)
        }
        "call_stream" => {
            let client = ctx.client(sc)?;
            let (endpoint, request) = call_parts(ctx, sc)?;
            let mut seen = StreamSeen::default();
            let r = client.call_stream_json(&endpoint, &request, uploads(sc)?).and_then(|mut st| {
                for ev in st.by_ref() {
                    if let Err(e) = seen.add(&ev?) {
                        return Ok(Err(e));
                    }
                }
                st.final_response().map(Ok)
            });
            match r {
                Ok(Err(e)) => Err(e),
                Ok(Ok(resp)) => seen.check(Ok(Some(&resp)), &expect),
                Err(e) => seen.check(Err(e), &expect),
            }
        }
        "batch" => run_batch(&ctx.client(sc)?, sc),
        "preview" => {
            let client = ctx.client(sc)?;
            let p = client.preview(&ctx.request(sc, &[])?, false);
            let want_status = expect.get("status").and_then(Value::as_str).unwrap_or("LLM_OK");
            let p = match p {
                Ok(p) => p,
                Err(e) => return Err(format!("preview: {e} (want {want_status})")),
            };
            let full = serde_json::to_string(&p).map_err(|e| e.to_string())?;
            let expect = subst(&Value::Object(expect), &ctx.subs());
            for (k, want) in expect.as_object().into_iter().flatten() {
                match k.as_str() {
                    "status" => eq("status", "LLM_OK", want)?,
                    "provider" => eq("provider", p.provider.clone(), want)?,
                    "method" => eq("method", p.method.clone(), want)?,
                    "url" => eq("url", p.url.clone(), want)?,
                    "excludes" => {
                        if full.contains(want.as_str().unwrap_or("\u{0}")) {
                            return Err(format!("preview shows {want}"));
                        }
                    }
                    "body_model" => {
                        let b: Value = serde_json::from_str(&p.body).map_err(|e| format!("body: {e}"))?;
                        eq("body_model", b.get("model").cloned().unwrap_or(Value::Null), want)?;
                    }
                    h if h.starts_with("header_") => {
                        let name = h["header_".len()..].replace('_', "-");
                        let got = p.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(&name)).map(|(_, v)| v.clone());
                        eq(h, got, want)?;
                    }
                    other => return Err(format!("this runner does not know the expectation {other:?}")),
                }
            }
            Ok(())
        }
        "register" => {
            let client = ctx.client(sc)?;
            let prov = subst(sc.get("provider").ok_or("no provider")?, &ctx.subs());
            client.register_provider(&prov).map_err(|e| format!("register_provider: {e}"))?;
            let name = prov.get("name").and_then(Value::as_str).unwrap_or_default();
            let listed = client.providers().map_err(|e| format!("providers: {e}"))?;
            if !listed.iter().any(|p| p.name == name && p.registered) {
                return Err(format!("{name} is not listed as registered"));
            }
            check(&observe_chat(client.chat(&ctx.request(sc, &[])?)), &expect)
        }
        "config_file" => {
            let text = subst(sc.get("file").ok_or("no file")?, &ctx.subs());
            let path = std::env::temp_dir().join(format!(
                "literllm-rust-{}-{}.toml",
                std::process::id(),
                sc.get("name").and_then(Value::as_str).unwrap_or("x")
            ));
            std::fs::File::create(&path)
                .and_then(|mut f| f.write_all(text.as_str().unwrap_or_default().as_bytes()))
                .map_err(|e| format!("write {}: {e}", path.display()))?;
            let client = Client::from_file(&path);
            let _ = std::fs::remove_file(&path);
            let client = client.map_err(|e| format!("from_file: {e}"))?;
            check(&observe_chat(client.chat(&ctx.request(sc, &[])?)), &expect)
        }
        other => Err(format!("this runner cannot run scenarios of kind {other:?}")),
    }
}

// ------------------------------------------------------------------- async

fn has_async_form(kind: &str) -> bool {
    matches!(kind, "chat" | "stream" | "cancel_stream" | "concurrent" | "call" | "call_stream" | "tool_loop")
}

async fn drain(s: &mut literllm::AsyncStream, obs: &mut Observed, text: &mut String) {
    while let Some(item) = s.next().await {
        match item {
            Ok(c) => {
                obs.chunks += 1;
                text.push_str(c.text().unwrap_or(""));
            }
            Err(e) => {
                obs.error = Some(e);
                return;
            }
        }
    }
}

async fn run_async(ctx: &Ctx, sc: &Value) -> Outcome {
    let kind = sc.get("kind").and_then(Value::as_str).unwrap_or("");
    let expect = expect_map(sc);
    let client = ctx.client(sc)?;
    match kind {
        "chat" => check(&observe_chat(client.chat_async(&ctx.request(sc, &[])?).await), &expect),
        "tool_loop" => {
            let req = ctx.request(sc, &[])?;
            let next = tool_loop_next(sc, req.clone(), client.chat_async(&req).await)?;
            check(&observe_chat(client.chat_async(&next).await), &expect)
        }
        "call" => {
            let (endpoint, request) = call_parts(ctx, sc)?;
            check_call(client.call_async_json(&endpoint, &request, uploads(sc)?).await, &expect)
        }
        "call_stream" => {
            let (endpoint, request) = call_parts(ctx, sc)?;
            let mut seen = StreamSeen::default();
            match client.call_stream_async_json(&endpoint, &request, uploads(sc)?) {
                Err(e) => seen.check(Err(e), &expect),
                Ok(mut st) => {
                    let mut error = None;
                    while let Some(ev) = st.next().await {
                        match ev {
                            Ok(ev) => seen.add(&ev)?,
                            Err(e) => {
                                error = Some(e);
                                break;
                            }
                        }
                    }
                    match error {
                        Some(e) => seen.check(Err(e), &expect),
                        None => seen.check(Ok(st.final_response()), &expect),
                    }
                }
            }
        }
        "stream" => {
            let mut obs = Observed::default();
            match client.stream_async(&ctx.request(sc, &[])?) {
                Err(e) => obs.error = Some(e),
                Ok(mut s) => {
                    let mut text = String::new();
                    drain(&mut s, &mut obs, &mut text).await;
                    if obs.error.is_none() {
                        obs.joined = Some(text);
                        obs.response = Some(s.final_response().cloned().ok_or("no final response")?);
                    }
                }
            }
            check(&obs, &expect)
        }
        "cancel_stream" => {
            let start = Instant::now();
            let mut s = client.stream_async(&ctx.request(sc, &[])?).map_err(|e| format!("stream_async: {e}"))?;
            let mut obs = Observed::default();
            match s.next().await {
                Some(Ok(_)) => obs.chunks += 1,
                other => return Err(format!("first chunk: {other:?}")),
            }
            let canceller = s.canceller();
            tokio::spawn(async move { canceller.cancel() }).await.map_err(|e| e.to_string())?;
            drain(&mut s, &mut obs, &mut String::new()).await;
            obs.elapsed = start.elapsed();
            check(&obs, &expect)
        }
        "concurrent" => {
            let callers = sc.get("callers").and_then(Value::as_u64).ok_or("no callers")?;
            let calls = sc.get("calls_each").and_then(Value::as_u64).ok_or("no calls_each")?;
            let mut tasks = Vec::new();
            for caller in 0..callers {
                let client = client.clone();
                let mut work = Vec::new();
                for call in 0..calls {
                    let subs = [("caller", caller.to_string()), ("call", call.to_string())];
                    let exp = subst(&Value::Object(expect.clone()), &subs).as_object().cloned().unwrap_or_default();
                    work.push((ctx.request(sc, &subs)?, exp, call));
                }
                tasks.push(tokio::spawn(async move {
                    for (req, exp, call) in work {
                        check(&observe_chat(client.chat_async(&req).await), &exp)
                            .map_err(|e| format!("caller {caller} call {call}: {e}"))?;
                    }
                    Ok::<(), String>(())
                }));
            }
            for t in tasks {
                t.await.map_err(|e| e.to_string())??;
            }
            Ok(())
        }
        other => Err(format!("no async form for kind {other:?}")),
    }
}

// ------------------------------------------------------------------ runner

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let list = args.iter().any(|a| a == "--list");
    let filters: Vec<&String> = args.iter().filter(|a| !a.starts_with('-')).collect();

    let path = std::env::var("LITERLLM_SCENARIOS")
        .unwrap_or_else(|_| format!("{}/../../../tests/scenarios/scenarios.json", env!("CARGO_MANIFEST_DIR")));
    let doc: Value = match std::fs::read_to_string(&path)
        .map_err(|e| e.to_string())
        .and_then(|s| serde_json::from_str(&s).map_err(|e| e.to_string()))
    {
        Ok(v) => v,
        Err(e) => {
            eprintln!("cannot read the scenario list {path}: {e}");
            std::process::exit(101);
        }
    };
    let scenarios = doc.get("scenarios").and_then(Value::as_array).cloned().unwrap_or_default();

    let mut cases: Vec<(String, Value, bool)> = Vec::new();
    for sc in &scenarios {
        let name = sc.get("name").and_then(Value::as_str).unwrap_or("(unnamed)").to_owned();
        let kind = sc.get("kind").and_then(Value::as_str).unwrap_or("");
        cases.push((format!("scenario::{name}"), sc.clone(), false));
        if has_async_form(kind) {
            cases.push((format!("scenario::{name}::async"), sc.clone(), true));
        }
    }
    cases.retain(|(n, _, _)| filters.is_empty() || filters.iter().any(|f| n.contains(f.as_str())));
    if list {
        for (n, _, _) in &cases {
            println!("{n}: test");
        }
        return;
    }

    let upstream = match common::Upstream::start() {
        Ok(u) => Some(u),
        Err(e) => {
            eprintln!("upstream: {e}");
            None
        }
    };
    let ctx = std::sync::Arc::new(Ctx {
        base_url: format!("http://127.0.0.1:{}/v1", upstream.as_ref().map_or(0, |u| u.port)),
        client_config: doc.get("client_config").cloned().unwrap_or(json!({})),
    });
    let rt = std::sync::Arc::new(
        tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime"),
    );

    println!("\nrunning {} tests", cases.len());
    let mut failed = Vec::new();
    let mut passed = 0usize;
    for (name, sc, is_async) in cases {
        let (tx, rx) = mpsc::channel();
        let (ctx2, rt2, sc2, up) = (ctx.clone(), rt.clone(), sc.clone(), upstream.is_some());
        thread::spawn(move || {
            let r = if !up {
                Err("the local upstream did not start".to_owned())
            } else if is_async {
                rt2.block_on(run_async(&ctx2, &sc2))
            } else {
                run_blocking(&ctx2, &sc2)
            };
            let _ = tx.send(r);
        });
        let r = rx.recv_timeout(Duration::from_secs(60)).unwrap_or_else(|_| Err("timed out or panicked".into()));
        match r {
            Ok(()) => {
                passed += 1;
                println!("test {name} ... ok");
            }
            Err(e) => {
                println!("test {name} ... FAILED");
                failed.push((name, e));
            }
        }
    }
    if !failed.is_empty() {
        println!("\nfailures:");
        for (n, e) in &failed {
            println!("    {n}: {e}");
        }
    }
    println!(
        "\ntest result: {}. {} passed; {} failed",
        if failed.is_empty() { "ok" } else { "FAILED" },
        passed,
        failed.len()
    );
    drop(upstream);
    if !failed.is_empty() {
        std::process::exit(101);
    }
}
