//! A chat, a stream and an async chat.
//!
//!     cargo run --offline -p literllm --example chat -- '<config json>' [model]
//!
//! e.g. with the local upstream on port 8080:
//!     cargo run --offline -p literllm --example chat -- \
//!       '{"providers":{"openai":{"base_url":"http://127.0.0.1:8080/v1","api_key":"sk-x"}}}'
use literllm::{ChatRequest, Client, Error};

fn main() -> Result<(), Error> {
    let mut args = std::env::args().skip(1);
    let config = args.next().unwrap_or_default();
    let model = args.next().unwrap_or_else(|| "openai/gpt-4o-mini".into());
    let client = Client::from_json(&config)?;

    let answer = client.chat(&ChatRequest::new(&model, "Say hello"))?;
    println!("chat: {}", answer.text().unwrap_or(""));

    print!("stream:");
    let mut stream = client.stream(&ChatRequest::new(&model, "Count to five"))?;
    for chunk in stream.by_ref() {
        print!("{}", chunk?.text().unwrap_or(""));
    }
    println!(" (finish: {:?})", stream.final_response()?.finish_reason());

    let answer = futures::executor::block_on(client.chat_async(&ChatRequest::new(&model, "async hello")))?;
    println!("async: {}", answer.text().unwrap_or(""));

    match client.chat(&ChatRequest::new("no-such-provider/x", "hi")) {
        Err(Error::InvalidArgument(info)) => println!("error as expected: {}", info.message),
        other => println!("unexpected: {other:?}"),
    }
    Ok(())
}
