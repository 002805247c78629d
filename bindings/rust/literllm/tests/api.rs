//! The safe layer beyond the shared scenarios: statuses, lifetimes,
//! cancellation by drop, async forms, escape hatches.

mod common;

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use futures::StreamExt;
use literllm::{ChatRequest, Client, Error, Status};
use literllm_sys as sys;
use serde_json::json;

fn upstream() -> common::Upstream {
    common::Upstream::start().expect("the local upstream (set LITERLLM_UPSTREAM)")
}

fn endless(text: &str) -> ChatRequest {
    let mut r = ChatRequest::new("openai/gpt-4o-mini", text);
    let mut h = BTreeMap::new();
    h.insert("x-upstream-generate".to_owned(), "content".to_owned());
    h.insert("x-upstream-chunk-delay-ms".to_owned(), "20".to_owned());
    r.extra_headers = Some(h);
    r
}

#[test]
fn every_header_status_has_a_variant_with_its_name() {
    for s in sys::llm_status::ALL {
        if s == sys::LLM_OK {
            continue;
        }
        let st = Status::from_raw(s.0);
        assert!(!matches!(st, Status::Unknown(_)), "{:?} has no Status variant", s.name());
        assert_eq!(st.raw(), s.0);
        assert_eq!(st.name(), s.name().unwrap());
    }
}

#[test]
fn client_and_handles_are_send_and_sync() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Client>();
    send_sync::<literllm::StreamCanceller>();
    send_sync::<literllm::RequestCanceller>();
    send::<literllm::Stream>();
    send::<literllm::ChatFuture>();
    send::<literllm::AsyncStream>();
    send_sync::<Error>();
}

#[test]
fn version_matches_the_header() {
    assert_eq!(literllm::version_number() as i64, sys::LLM_VERSION_NUMBER);
    assert_eq!(
        literllm::version(),
        format!("{}.{}.{}", sys::LLM_VERSION_MAJOR, sys::LLM_VERSION_MINOR, sys::LLM_VERSION_PATCH)
    );
    literllm::init().unwrap();
}

#[test]
fn a_bad_config_is_invalid_argument_naming_the_field() {
    let e = Client::new(&json!({"max_retries": "two"})).unwrap_err();
    assert!(matches!(e, Error::InvalidArgument(_)), "{e:?}");
    assert!(e.message().contains("max_retries"), "{e}");
    assert_eq!(e.http_status(), None);
    let e = Client::from_json("{\"a\u{0}\"").unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    let e = Client::from_file("/nonexistent/literllm.toml").unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
}

#[test]
fn raw_json_forms_and_extra_fields() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    let answer =
        client.chat_json(r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"raw"}]}"#).unwrap();
    let v: serde_json::Value = serde_json::from_str(&answer).unwrap();
    assert_eq!(v["provider"], "openai");
    // A field the models do not name travels through `extra` both ways.
    let mut req = ChatRequest::new("openai/gpt-4o-mini", "extra");
    req.extra.insert("logprobs".into(), json!(false));
    let p = client.preview(&req, false).unwrap();
    let body: serde_json::Value = serde_json::from_str(&p.body).unwrap();
    assert_eq!(body["logprobs"], json!(false));
    let r = client.chat(&req).unwrap();
    assert_eq!(r.extra.get("system_fingerprint"), None, "named field leaked into extra");
    assert!(r.stats.as_ref().unwrap().bytes_received > 0);
}

#[test]
fn providers_register_and_unregister() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    assert!(client.providers().unwrap().iter().any(|p| p.name == "openai"));
    client
        .register_provider(&json!({"name": "mine", "base_url": up.base_url(), "prefixes": ["mine"], "auth": "none"}))
        .unwrap();
    let r = client.chat(&ChatRequest::new("mine/m", "hi")).unwrap();
    assert_eq!(r.provider.as_deref(), Some("mine"));
    client.unregister_provider("mine").unwrap();
    let e = client.unregister_provider("mine").unwrap_err();
    assert!(matches!(e, Error::NotFound(_)), "{e:?}");
    assert!(literllm::providers_global().unwrap().iter().any(|p| p.name == "openai"));
    let e = literllm::register_provider_global(&json!({"name": ""})).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    assert_eq!(literllm::unregister_provider_global("never-registered").unwrap_err().status(), Status::NotFound);
}

#[test]
fn dropping_a_stream_mid_way_frees_it() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    for _ in 0..20 {
        let mut s = client.stream(&endless("x")).unwrap();
        assert!(s.next().unwrap().is_ok());
    }
    // The client outlives a stream that outlives the last Client clone.
    let s = client.stream(&endless("y")).unwrap();
    drop(client);
    let n = s.take(3).filter(Result::is_ok).count();
    assert_eq!(n, 3);
}

#[test]
fn a_stream_cancelled_before_reading_answers_cancelled() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    let mut s = client.stream(&endless("x")).unwrap();
    s.cancel();
    let e = s.find_map(Result::err).unwrap();
    assert!(e.is_cancelled(), "{e:?}");
    assert!(s.next().is_none(), "the iterator ends after its error");
}

#[test]
fn async_chat_and_cancel_by_drop() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    let rt = tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().unwrap();
    rt.block_on(async {
        let r = client.chat_async(&ChatRequest::new("openai/gpt-4o-mini", "async")).await.unwrap();
        assert_eq!(r.text(), Some("Hello from the local upstream. You said: async"));

        // A slow request dropped by a timeout is cancelled in the library.
        let mut slow = ChatRequest::new("openai/gpt-4o-mini", "slow");
        slow.extra_headers = Some([("x-upstream-delay-ms".to_owned(), "5000".to_owned())].into_iter().collect());
        let t = Instant::now();
        let r = tokio::time::timeout(Duration::from_millis(100), client.chat_async(&slow)).await;
        assert!(r.is_err());
        assert!(t.elapsed() < Duration::from_secs(2));

        // A canceller from the future.
        let f = client.chat_async(&slow);
        let c = f.canceller();
        std::thread::spawn(move || c.cancel());
        let e = f.await.unwrap_err();
        assert!(e.is_cancelled(), "{e:?}");

        // Errors of the async form carry the same details.
        let mut bad = ChatRequest::new("openai/gpt-4o-mini", "x");
        bad.extra_headers = Some(
            [("x-upstream-status".to_owned(), "429".to_owned()), ("x-upstream-retry-after".to_owned(), "3".to_owned())]
                .into_iter()
                .collect(),
        );
        let e = client.chat_async(&bad).await.unwrap_err();
        assert!(matches!(e, Error::RateLimited(_)), "{e:?}");
        assert_eq!(e.retry_after(), Some(Duration::from_secs(3)));
        assert_eq!(e.http_status(), Some(429));

        // The raw form: JSON text both ways.
        let raw = client
            .chat_async_json(r#"{"model":"openai/gpt-4o-mini","messages":[{"role":"user","content":"raw async"}]}"#)
            .await
            .unwrap();
        let v: serde_json::Value = serde_json::from_str(&raw).unwrap();
        assert_eq!(v["choices"][0]["message"]["content"], "Hello from the local upstream. You said: raw async");

        // A request the library refuses at once fails without a callback.
        let e = client.chat_async_json("{").await.unwrap_err();
        assert_eq!(e.status(), Status::InvalidArgument);
    });
}

#[test]
fn async_stream_dropped_mid_way_and_client_freed_with_requests_in_flight() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        for _ in 0..10 {
            let mut s = client.stream_async(&endless("x")).unwrap();
            assert!(s.next().await.unwrap().is_ok());
        }
        let s = client.stream_async(&ChatRequest::new("openai/gpt-4o-mini", "a b c d")).unwrap();
        let chunks: Vec<_> = s.collect().await;
        assert!(chunks.iter().all(Result::is_ok));
    });
    // Futures never polled, then dropped with the last client clone.
    let pending: Vec<_> = (0..8).map(|_| client.chat_async(&endless("never read"))).collect();
    drop(client);
    drop(pending);
}

#[test]
fn concurrent_blocking_and_async_on_one_client() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    let threads: Vec<_> = (0..4)
        .map(|i| {
            let c = client.clone();
            std::thread::spawn(move || {
                for j in 0..10 {
                    let text = format!("t{i} c{j}");
                    let r = if j % 2 == 0 {
                        c.chat(&ChatRequest::new("openai/gpt-4o-mini", text.clone())).unwrap()
                    } else {
                        futures::executor::block_on(c.chat_async(&ChatRequest::new("openai/gpt-4o-mini", text.clone())))
                            .unwrap()
                    };
                    assert_eq!(r.text().unwrap(), format!("Hello from the local upstream. You said: {text}"));
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
}

// ---------------------------------------------------------------- llm_call

#[test]
fn call_embed_gives_one_vector_per_input_matching_the_json() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    let vs = client.embed(Some("openai/text-embedding-3-small"), &["one", "two", "three"]).unwrap();
    assert_eq!(vs.len(), 3);
    assert!(vs.iter().all(|v| v.len() == 1536));
    let r = client
        .call(
            "embeddings",
            &json!({"model": "openai/text-embedding-3-small", "input": ["a", "b"], "dimensions": 4}),
            &[],
        )
        .unwrap();
    let (flat, count, dims) = r.embeddings_flat();
    assert_eq!((flat.len(), count, dims), (8, 2, 4));
    let answer = r.value().unwrap();
    for d in answer["data"].as_array().unwrap() {
        let i = d["index"].as_u64().unwrap() as usize;
        let from_json: Vec<f32> =
            d["embedding"].as_array().unwrap().iter().map(|x| x.as_f64().unwrap() as f32).collect();
        assert_eq!(r.embeddings()[i], &from_json[..]);
    }
    let asynced =
        futures::executor::block_on(client.embed_async(Some("openai/text-embedding-3-small"), &["one"])).unwrap();
    assert_eq!(asynced[0], vs[0]);
}

#[test]
fn call_models_lists_the_upstream_models() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    let ids: Vec<String> = client.models(Some("openai")).unwrap().into_iter().map(|m| m.id).collect();
    assert!(ids.iter().any(|i| i == "gpt-4o-mini") && ids.iter().any(|i| i == "gpt-4o"), "{ids:?}");
}

#[test]
fn call_speech_bytes_transcribe_back_from_borrowed_and_owned_uploads() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    let req = literllm::SpeechRequest {
        model: Some("openai/tts-1".into()),
        input: "round trip words".into(),
        voice: Some("alloy".into()),
        response_format: Some("wav".into()),
    };
    let (audio, ct) = client.speech(&req).unwrap();
    assert_eq!(ct.as_deref(), Some("audio/wav"));
    assert!(audio.starts_with(b"RIFF"));
    // Blocking: the upload is borrowed for the call.
    let t = client.transcribe(Some("openai/whisper-1"), &audio, "speech.wav", &json!({"language": "en"})).unwrap();
    assert_eq!(t["text"], "round trip words");
    // Async: the request owns the upload (an Arc here) until its done callback.
    let shared: std::sync::Arc<[u8]> = audio.clone().into();
    let fut = client.call_async(
        "audio.transcriptions",
        &json!({"model": "openai/whisper-1", "file": {"data": 0, "filename": "speech.wav"}}),
        vec![shared.clone()],
    );
    let r = futures::executor::block_on(fut).unwrap();
    assert_eq!(r.value().unwrap()["text"], "round trip words");
    assert_eq!(&shared[..], &audio[..]);
    // From a path, read as it is sent.
    let path = std::env::temp_dir().join(format!("literllm-rust-{}.wav", std::process::id()));
    std::fs::write(&path, &audio).unwrap();
    let t = client.transcribe_file(Some("openai/whisper-1"), &path, &serde_json::Value::Null);
    let _ = std::fs::remove_file(&path);
    assert_eq!(t.unwrap()["text"], "round trip words");
}

#[test]
fn preview_call_shows_the_upload_as_a_part() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    let pv = client
        .preview_call(
            "audio.transcriptions",
            &json!({"model": "openai/whisper-1", "file": {"data": 0, "filename": "a.wav"}}),
            &[b"RIFF0000WAVE"],
        )
        .unwrap();
    let parts = pv["parts"].as_array().cloned().unwrap_or_default();
    assert!(parts.iter().any(|p| p["name"] == "file" && p["filename"] == "a.wav" && p["bytes"] == 12), "{pv}");
}

#[test]
fn call_errors_are_typed() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    let e = client.call("no.such.endpoint", &json!({}), &[]).unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    let e = client
        .call(
            "audio.transcriptions",
            &json!({"model": "openai/whisper-1", "file": {"data": 3, "filename": "a.wav"}}),
            &[],
        )
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
    let e = futures::executor::block_on(client.call_async("no.such.endpoint", &json!({}), Vec::<Vec<u8>>::new()))
        .unwrap_err();
    assert_eq!(e.status(), Status::InvalidArgument);
}

#[test]
fn call_stream_events_final_response_and_cancel() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    let req = json!({"model": "openai/gpt-4o-mini", "input": "one two three"});
    let mut s = client.stream_response(&req).unwrap();
    let types: Vec<String> = s.by_ref().map(|e| e.unwrap()["type"].as_str().unwrap().to_owned()).collect();
    assert_eq!(types.first().map(String::as_str), Some("response.created"));
    assert_eq!(types.last().map(String::as_str), Some("response.completed"));
    assert_eq!(s.final_response().unwrap().value().unwrap()["status"], "completed");

    // Cancelled from another thread while events are still coming.
    let slow = json!({"model": "openai/gpt-4o-mini", "input": "a b c d e f g h i j",
                      "extra_headers": {"x-upstream-chunk-delay-ms": "50"}});
    let mut s = client.call_stream("responses.create", &slow, Vec::<Vec<u8>>::new()).unwrap();
    assert!(s.next().unwrap().is_ok());
    let c = s.canceller();
    std::thread::spawn(move || c.cancel()).join().unwrap();
    let last = s.by_ref().last().expect("an error after the cancel");
    assert_eq!(last.unwrap_err().status(), Status::Cancelled);

    // The async form gives the same events and final response.
    let mut a = client.stream_response_async(&req).unwrap();
    let n = futures::executor::block_on(async {
        let mut n = 0;
        while let Some(e) = a.next().await {
            e.unwrap();
            n += 1;
        }
        n
    });
    assert_eq!(n, types.len());
    assert_eq!(a.final_response().unwrap().value().unwrap()["status"], "completed");

    // An endpoint that does not stream fails before anything is sent.
    let e = client.call_stream(
        "embeddings",
        &json!({"model": "openai/text-embedding-3-small", "input": "x"}),
        Vec::<Vec<u8>>::new(),
    );
    assert_eq!(e.unwrap_err().status(), Status::InvalidArgument);
}

#[test]
fn endpoint_conveniences() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    let none = serde_json::Value::Null;
    let img =
        client.generate_image(Some("openai/dall-e-2"), "a red square", &json!({"n": 1, "size": "256x256"})).unwrap();
    assert_eq!(img["data"].as_array().unwrap().len(), 1);
    let m = client.moderate(Some("openai/omni-moderation-latest"), &json!(["a", "b"]), &none).unwrap();
    assert_eq!(m["results"].as_array().unwrap().len(), 2);

    let f = client.create_file(Some("openai"), "assistants", "notes.txt", b"hello file", &none).unwrap();
    let id = f["id"].as_str().unwrap();
    assert_eq!(client.retrieve_file(Some("openai"), id).unwrap()["id"], id);
    assert!(client.list_files(Some("openai"), &none).unwrap()["data"]
        .as_array()
        .unwrap()
        .iter()
        .any(|x| x["id"] == id));
    assert_eq!(client.file_content(Some("openai"), id).unwrap().0, b"hello file");
    assert_eq!(client.delete_file(Some("openai"), id).unwrap()["deleted"], true);
    assert_eq!(client.list_batches(Some("openai"), &json!({"limit": 5})).unwrap()["object"], "list");

    let r = client.create_response(&json!({"model": "openai/gpt-4o-mini", "input": "keep me"})).unwrap();
    let rid = r["id"].as_str().unwrap();
    assert_eq!(client.retrieve_response(Some("openai"), rid).unwrap()["id"], rid);
    client.delete_response(Some("openai"), rid).unwrap();
    assert_eq!(client.retrieve_response(Some("openai"), rid).unwrap_err().status(), Status::NotFound);
}

#[test]
fn a_cancel_token_ends_blocking_calls_on_other_threads() {
    let up = upstream();
    let client = Client::new(&up.config()).unwrap();
    let token = literllm::CancelToken::new().unwrap();
    assert!(!token.is_cancelled());
    // An untriggered token changes nothing.
    let r = client.chat_cancellable(&ChatRequest::new("openai/gpt-4o-mini", "first"), &token).unwrap();
    assert_eq!(r.text(), Some("Hello from the local upstream. You said: first"));

    let mut slow = ChatRequest::new("openai/gpt-4o-mini", "slow");
    slow.extra_headers = Some([("x-upstream-delay-ms".to_owned(), "20000".to_owned())].into_iter().collect());
    let slow_call = json!({"model": "openai/text-embedding-3-small", "input": "x",
                           "extra_headers": {"x-upstream-delay-ms": "20000"}});
    let t = Instant::now();
    let results = std::thread::scope(|s| {
        let chat = s.spawn(|| client.chat_cancellable(&slow, &token).map(|_| ()));
        let call = s.spawn(|| client.call_cancellable("embeddings", &slow_call, &[], &token).map(|_| ()));
        let other = token.clone();
        s.spawn(move || {
            std::thread::sleep(Duration::from_millis(100));
            other.cancel();
        });
        [chat.join().unwrap(), call.join().unwrap()]
    });
    assert!(t.elapsed() < Duration::from_secs(3), "took {:?}", t.elapsed());
    for r in results {
        let e = r.unwrap_err();
        assert!(e.is_cancelled(), "{e:?}");
    }
    assert!(token.is_cancelled());
    // A cancelled token stays cancelled: a later call fails at once, without a request.
    let e = client.chat_json_cancellable(r#"{"model":"openai/gpt-4o-mini","messages":[]}"#, &token).unwrap_err();
    assert!(e.is_cancelled(), "{e:?}");
    // The client is unharmed.
    let r = client.chat(&ChatRequest::new("openai/gpt-4o-mini", "after")).unwrap();
    assert_eq!(r.text(), Some("Hello from the local upstream. You said: after"));
}

#[test]
fn answers_with_nulls_and_tool_calls_without_type_decode_as_the_library_passes_them() {
    // The library passes these through unchanged; the typed decode took each for an error.
    for text in [
        r#"{"id":null,"object":null,"created":null,"model":null,"choices":null,"usage":null,"provider":null,"stats":null}"#,
        r#"{"choices":[{"index":null,"message":{"role":null,"content":null},"finish_reason":null}]}"#,
        r#"{"usage":{"prompt_tokens":3,"completion_tokens":null,"total_tokens":null},"stats":{"retries":null}}"#,
        r#"{"choices":[{"message":{"role":"assistant","tool_calls":[{"id":"c1","function":{"name":"f","arguments":"{}"}}]}}]}"#,
        r#"{"choices":[{"message":{"tool_calls":[{"id":null,"type":null,"function":{"name":null,"arguments":null}}]}}]}"#,
    ] {
        let r: literllm::ChatResponse = serde_json::from_str(text).unwrap_or_else(|e| panic!("{text}: {e}"));
        let _ = r.tool_calls();
    }
    let c: literllm::ChatChunk = serde_json::from_str(
        r#"{"choices":[{"index":null,"delta":{"tool_calls":[{"index":null}]},"finish_reason":null}]}"#,
    )
    .unwrap();
    assert_eq!(c.choices[0].index, 0);
}

#[test]
fn a_tool_calls_own_fields_survive_the_round_trip() {
    // Gemini's OpenAI-compatible API: the thought signature rides on the tool call.
    let text = r#"{"choices":[{"message":{"role":"assistant","content":null,"tool_calls":[{"id":"c1","type":"function",
        "function":{"name":"f","arguments":"{}","x_fn":1},"extra_content":{"google":{"thought_signature":"sig"}}}]}}]}"#;
    let r: literllm::ChatResponse = serde_json::from_str(text).unwrap();
    let back = serde_json::to_value(r.choices[0].message.to_message()).unwrap();
    assert_eq!(back["tool_calls"][0]["extra_content"]["google"]["thought_signature"], "sig");
    assert_eq!(back["tool_calls"][0]["function"]["x_fn"], 1);
    let chunk: literllm::ChatChunk = serde_json::from_str(
        r#"{"choices":[{"delta":{"tool_calls":[{"index":0,"extra_content":{"a":1},"function":{"x":2}}]}}]}"#,
    )
    .unwrap();
    let v = serde_json::to_value(&chunk).unwrap();
    assert_eq!(v["choices"][0]["delta"]["tool_calls"][0]["extra_content"]["a"], 1);
    assert_eq!(v["choices"][0]["delta"]["tool_calls"][0]["function"]["x"], 2);
    let tool: literllm::Tool =
        serde_json::from_str(r#"{"type":"function","function":{"name":"f"},"cache_control":{"type":"ephemeral"}}"#)
            .unwrap();
    assert_eq!(serde_json::to_value(&tool).unwrap()["cache_control"]["type"], "ephemeral");
}

#[test]
fn a_tool_loop_with_thinking_goes_on_through_to_message() {
    // Anthropic's extended thinking: the answer's message, sent back with to_message, carries its
    // thinking blocks (the upstream, as Anthropic, refuses a tool result after thinking without them).
    let up = upstream();
    let base = up.base_url();
    let client = Client::new(&json!({"max_retries": 0, "providers": {"anthropic": {
        "base_url": base.trim_end_matches("/v1"), "api_key": "sk-ant-test-123456"}}}))
    .unwrap();
    let mut req = ChatRequest::new("anthropic/claude-sonnet-4-5", "weather in Paris?");
    req.extra.insert("reasoning_effort".into(), json!("low"));
    req.tools = Some(vec![literllm::Tool::function(
        "get_weather",
        json!({"type": "object", "properties": {"city": {"type": "string"}}}),
    )]);
    for streamed in [false, true] {
        let mut r = req.clone();
        let resp = if streamed {
            let mut s = client.stream(&r).unwrap();
            for chunk in s.by_ref() {
                chunk.unwrap();
            }
            s.final_response().unwrap()
        } else {
            client.chat(&r).unwrap()
        };
        let m = &resp.choices[0].message;
        assert!(m.extra.contains_key("thinking_blocks") && !resp.tool_calls().is_empty(), "{m:?}");
        let back = m.to_message();
        assert!(back.extra.get("reasoning_content").map_or(false, serde_json::Value::is_string), "{back:?}");
        assert_eq!(back.extra.get("reasoning_content"), m.extra.get("reasoning_content"));
        let id = resp.tool_calls()[0].id.clone();
        r.messages.push(back);
        r.messages.push(literllm::Message {
            role: "tool".into(),
            content: Some(literllm::Content::Text("{\"temp\":21}".into())),
            tool_call_id: Some(id),
            ..literllm::Message::default()
        });
        client.chat(&r).unwrap_or_else(|e| panic!("streamed {streamed}: second turn: {e}"));
        r.messages[1].extra.remove("thinking_blocks");
        assert!(matches!(client.chat(&r), Err(Error::BadRequest(_))), "without the blocks the upstream refuses");
    }
}
