//! The local upstream (tests/upstream) as a child process.
#![allow(dead_code)]

use std::io::{BufRead, BufReader};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::thread;

pub struct Upstream {
    child: Child,
    _stdin: ChildStdin,
    pub port: u16,
}

impl Upstream {
    pub fn start() -> Result<Upstream, String> {
        let path = std::env::var("LITERLLM_UPSTREAM").unwrap_or_else(|_| {
            let prefix = Command::new("pkg-config")
                .args(["--variable=prefix", "literllm"])
                .output()
                .ok()
                .and_then(|o| String::from_utf8(o.stdout).ok())
                .map(|s| s.trim().to_owned())
                .unwrap_or_default();
            format!("{prefix}/bin/literllm-upstream")
        });
        let mut child = Command::new(&path)
            .args(["--no-record", "--exit-on-stdin-eof"])
            // The upstream is not under test: keep sanitizer preloads for us.
            .env_remove("LD_PRELOAD")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .map_err(|e| format!("cannot start {path} (set LITERLLM_UPSTREAM): {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        let mut out = BufReader::new(child.stdout.take().ok_or("no stdout")?);
        let mut line = String::new();
        out.read_line(&mut line).map_err(|e| e.to_string())?;
        let port = line
            .trim()
            .strip_prefix("LISTENING ")
            .and_then(|p| p.parse().ok())
            .ok_or_else(|| format!("upstream said {line:?}"))?;
        // Keep draining its stdout so it never blocks on a full pipe.
        thread::spawn(move || {
            let mut sink = String::new();
            while out.read_line(&mut sink).map(|n| n > 0).unwrap_or(false) {
                sink.clear();
            }
        });
        Ok(Upstream { child, _stdin: stdin, port })
    }
}

impl Drop for Upstream {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Upstream {
    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    /// A client config pointing the openai provider at this upstream.
    pub fn config(&self) -> serde_json::Value {
        serde_json::json!({"max_retries": 0, "providers": {"openai": {"base_url": self.base_url(), "api_key": "sk-test-0123456789"}}})
    }
}
