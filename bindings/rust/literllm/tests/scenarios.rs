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
use literllm::{ChatRequest, ChatResponse, Client, Error};
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

/// Kind "call": the shared expectations on the error (or none), then the
/// answer's (object, ids_include, vectors, dimensions, content_type, min_bytes).
fn check_call(r: Result<literllm::Response, Error>, expect: &Map<String, Value>) -> Outcome {
    const CALL_KEYS: [&str; 6] = ["object", "ids_include", "vectors", "dimensions", "content_type", "min_bytes"];
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
            _ => {}
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
            check_call(client.call_json(&endpoint, &request, &[]), &expect)
        }
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
    matches!(kind, "chat" | "stream" | "cancel_stream" | "concurrent" | "call")
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
        "call" => {
            let (endpoint, request) = call_parts(ctx, sc)?;
            check_call(client.call_async_json(&endpoint, &request, Vec::<Vec<u8>>::new()).await, &expect)
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
