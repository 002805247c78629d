//! Per-call cost of the Rust binding against the C calls it wraps, on the
//! local upstream, the variants interleaved round by round; then RSS over
//! 10,000 binding calls.
//!
//!     cargo run --offline --release -p literllm-bench [-- ROUNDS CALLS_PER_ROUND]
//!
//! Needs LITERLLM_UPSTREAM or pkg-config's prefix/bin/literllm-upstream.
#![allow(unsafe_code)]

use std::ffi::{CStr, CString};
use std::io::{BufRead, BufReader};
use std::os::raw::c_void;
use std::process::{Command, Stdio};
use std::ptr;
use std::sync::{Arc, Condvar, Mutex};
use std::time::{Duration, Instant};

use literllm::{ChatRequest, Client};
use literllm_sys as sys;

const IN_FLIGHT: usize = 16;

fn upstream() -> (std::process::Child, std::process::ChildStdin, u16) {
    let path = std::env::var("LITERLLM_UPSTREAM").unwrap_or_else(|_| {
        let o = Command::new("pkg-config").args(["--variable=prefix", "literllm"]).output().expect("pkg-config");
        format!("{}/bin/literllm-upstream", String::from_utf8_lossy(&o.stdout).trim())
    });
    let mut child = Command::new(&path)
        .args(["--no-record", "--exit-on-stdin-eof"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let stdin = child.stdin.take().unwrap();
    let mut out = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    out.read_line(&mut line).unwrap();
    let port = line.trim().strip_prefix("LISTENING ").unwrap().parse().unwrap();
    std::thread::spawn(move || {
        let mut s = String::new();
        while out.read_line(&mut s).map(|n| n > 0).unwrap_or(false) {
            s.clear();
        }
    });
    (child, stdin, port)
}

/// The C side, called through literllm-sys directly.
struct CClient(*mut sys::llm_client_t);
// SAFETY: a client may be shared by any number of threads.
unsafe impl Send for CClient {}
// SAFETY: as above.
unsafe impl Sync for CClient {}

impl CClient {
    fn new(config: &str) -> CClient {
        let c = CString::new(config).unwrap();
        let mut out = ptr::null_mut();
        // SAFETY: valid arguments.
        let st = unsafe { sys::llm_client_new_e(c.as_ptr(), &mut out, ptr::null_mut()) };
        assert_eq!(st, sys::LLM_OK);
        CClient(out)
    }

    /// llm_chat_e, the response's JSON read (as the binding does), free.
    fn chat(&self, req: &CStr) -> usize {
        let mut out = ptr::null_mut();
        let mut err = ptr::null_mut();
        // SAFETY: live client, valid string, out pointers.
        unsafe {
            let st = sys::llm_chat_e(self.0, req.as_ptr(), &mut out, &mut err);
            assert_eq!(st, sys::LLM_OK);
            let n = CStr::from_ptr(sys::llm_response_json(out)).to_bytes().len();
            sys::llm_response_free(out);
            n
        }
    }

    /// `n` llm_chat_async_e calls at once; waits for all. With `hand_over`,
    /// the callback passes each response to the waiting thread, which reads
    /// and frees it (what a future does), waking it per answer.
    fn chat_async_batch(&self, req: &CStr, n: usize, hand_over: bool) {
        type Shared = (Mutex<(usize, Vec<usize>)>, Condvar, bool);
        let pending: Arc<Shared> = Arc::new((Mutex::new((n, Vec::new())), Condvar::new(), hand_over));
        unsafe extern "C" fn done(
            st: sys::llm_status,
            resp: *mut sys::llm_response_t,
            _e: *const sys::llm_error_t,
            ud: *mut c_void,
        ) {
            assert_eq!(st, sys::LLM_OK);
            // SAFETY: a response we own; ud is a leaked Arc clone.
            unsafe {
                let p = Arc::from_raw(ud as *const Shared);
                let mut g = p.0.lock().unwrap();
                g.0 -= 1;
                if p.2 {
                    g.1.push(resp as usize);
                    p.1.notify_one();
                } else {
                    let _ = CStr::from_ptr(sys::llm_response_json(resp)).to_bytes().len();
                    sys::llm_response_free(resp);
                    if g.0 == 0 {
                        p.1.notify_one();
                    }
                }
            }
        }
        for _ in 0..n {
            let ud = Arc::into_raw(pending.clone()) as *mut c_void;
            // SAFETY: live client; ud lives until the done callback.
            let st = unsafe {
                sys::llm_chat_async_e(self.0, req.as_ptr(), Some(done), ud, ptr::null_mut(), ptr::null_mut())
            };
            assert_eq!(st, sys::LLM_OK);
        }
        let mut g = pending.0.lock().unwrap();
        loop {
            while let Some(r) = g.1.pop() {
                let resp = r as *mut sys::llm_response_t;
                // SAFETY: handed over by the callback; ours now.
                unsafe {
                    let _ = CStr::from_ptr(sys::llm_response_json(resp)).to_bytes().len();
                    sys::llm_response_free(resp);
                }
            }
            if g.0 == 0 {
                break;
            }
            g = pending.1.wait(g).unwrap();
        }
    }
}

impl Drop for CClient {
    fn drop(&mut self) {
        // SAFETY: owned.
        unsafe { sys::llm_client_free(self.0) };
    }
}

fn cpu() -> Duration {
    // utime + stime in clock ticks (fields 14 and 15 of /proc/self/stat).
    let s = std::fs::read_to_string("/proc/self/stat").unwrap_or_default();
    let rest = s.rsplit(')').next().unwrap_or("");
    let f: Vec<u64> = rest.split_whitespace().filter_map(|x| x.parse().ok()).collect();
    // After ")": state is not numeric, so index 11/12 are utime/stime.
    let ticks = f.get(10).copied().unwrap_or(0) + f.get(11).copied().unwrap_or(0);
    Duration::from_millis(ticks * 10)
}

fn rss_kib() -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .unwrap_or_default()
        .lines()
        .find(|l| l.starts_with("VmRSS:"))
        .and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        .unwrap_or(0)
}

#[derive(Default, Clone, Copy)]
struct Acc {
    wall: Duration,
    cpu: Duration,
    calls: u64,
}

fn measure(acc: &mut Acc, calls: u64, f: impl FnOnce()) {
    let (t, c) = (Instant::now(), cpu());
    f();
    acc.wall += t.elapsed();
    acc.cpu += cpu().saturating_sub(c);
    acc.calls += calls;
}

fn main() {
    let args: Vec<u64> = std::env::args().skip(1).filter_map(|a| a.parse().ok()).collect();
    let rounds = args.first().copied().unwrap_or(10);
    let per_round = args.get(1).copied().unwrap_or(200);

    let (_child, _stdin, port) = upstream();
    let config = serde_json::json!({"max_retries": 0, "providers": {"openai": {
        "base_url": format!("http://127.0.0.1:{port}/v1"), "api_key": "sk-bench-0123456789"}}});
    let req = ChatRequest::new("openai/gpt-4o-mini", "bench");
    let req_json = serde_json::to_string(&req).unwrap();
    let req_c = CString::new(req_json.clone()).unwrap();

    let cc = Arc::new(CClient::new(&config.to_string()));
    let client = Client::new(&config).unwrap();
    // Warm both (connections, allocator).
    for _ in 0..200 {
        cc.chat(&req_c);
        client.chat(&req).unwrap();
    }

    let names = [
        "C llm_chat_e (sequential)",
        "Rust Client::chat typed (sequential)",
        "Rust Client::chat_json raw (sequential)",
        "C llm_chat_e, 16 threads",
        "Rust Client::chat, 16 threads",
        "C llm_chat_async_e, 16 in flight",
        "Rust chat_async, 16 in flight (futures join_all)",
        "C llm_chat_async_e, 16 in flight, responses handed to the waiter",
        "Rust chat_async_json raw, 16 in flight",
        "Rust chat_async, 16 in flight, awaited in order",
    ];
    let mut acc = [Acc::default(); 10];
    let per_thread = (per_round / IN_FLIGHT as u64).max(1);
    let batches = per_thread;
    for _ in 0..rounds {
        measure(&mut acc[0], per_round, || {
            (0..per_round).for_each(|_| {
                cc.chat(&req_c);
            })
        });
        measure(&mut acc[1], per_round, || {
            (0..per_round).for_each(|_| {
                client.chat(&req).unwrap();
            })
        });
        measure(&mut acc[2], per_round, || {
            (0..per_round).for_each(|_| {
                client.chat_json(&req_json).unwrap();
            })
        });
        measure(&mut acc[3], per_thread * IN_FLIGHT as u64, || {
            std::thread::scope(|s| {
                for _ in 0..IN_FLIGHT {
                    s.spawn(|| {
                        (0..per_thread).for_each(|_| {
                            cc.chat(&req_c);
                        })
                    });
                }
            })
        });
        measure(&mut acc[4], per_thread * IN_FLIGHT as u64, || {
            std::thread::scope(|s| {
                for _ in 0..IN_FLIGHT {
                    s.spawn(|| {
                        (0..per_thread).for_each(|_| {
                            client.chat(&req).unwrap();
                        })
                    });
                }
            })
        });
        measure(&mut acc[5], batches * IN_FLIGHT as u64, || {
            (0..batches).for_each(|_| cc.chat_async_batch(&req_c, IN_FLIGHT, false))
        });
        measure(&mut acc[6], batches * IN_FLIGHT as u64, || {
            (0..batches).for_each(|_| {
                let fs: Vec<_> = (0..IN_FLIGHT).map(|_| client.chat_async(&req)).collect();
                for r in futures::executor::block_on(futures::future::join_all(fs)) {
                    r.unwrap();
                }
            })
        });
        measure(&mut acc[7], batches * IN_FLIGHT as u64, || {
            (0..batches).for_each(|_| cc.chat_async_batch(&req_c, IN_FLIGHT, true))
        });
        measure(&mut acc[8], batches * IN_FLIGHT as u64, || {
            (0..batches).for_each(|_| {
                let fs: Vec<_> = (0..IN_FLIGHT).map(|_| client.chat_async_json(&req_json)).collect();
                for r in futures::executor::block_on(futures::future::join_all(fs)) {
                    r.unwrap();
                }
            })
        });
        measure(&mut acc[9], batches * IN_FLIGHT as u64, || {
            (0..batches).for_each(|_| {
                let fs: Vec<_> = (0..IN_FLIGHT).map(|_| client.chat_async(&req)).collect();
                futures::executor::block_on(async {
                    for f in fs {
                        f.await.unwrap();
                    }
                })
            })
        });
    }
    println!("{rounds} rounds, interleaved; per call: wall µs, CPU µs of this process (all threads, 10 ms ticks), wall ratio to its C row");
    for (i, (n, a)) in names.iter().zip(acc.iter()).enumerate() {
        let wall = a.wall.as_secs_f64() * 1e6 / a.calls as f64;
        let cpu = a.cpu.as_secs_f64() * 1e6 / a.calls as f64;
        let base = match i {
            1 | 2 => Some(0),
            4 => Some(3),
            6 => Some(5),
            7..=9 => Some(5),
            _ => None,
        };
        let ratio = base.map(|b| {
            let bw = acc[b].wall.as_secs_f64() / acc[b].calls as f64;
            format!("  wall {:.2}x", (a.wall.as_secs_f64() / a.calls as f64) / bw)
        });
        println!("{n:52} {wall:9.1} {cpu:9.1}{}", ratio.unwrap_or_default());
    }

    let start = rss_kib();
    for i in 0..10_000u32 {
        if i % 2 == 0 {
            client.chat(&req).unwrap();
        } else {
            futures::executor::block_on(client.chat_async(&req)).unwrap();
        }
    }
    let mid = rss_kib();
    for _ in 0..10_000u32 {
        let mut s = client.stream(&req).unwrap();
        for c in s.by_ref() {
            c.unwrap();
        }
    }
    println!(
        "RSS: {start} KiB before 10,000 chats (half async), {mid} KiB after; {} KiB after 10,000 streams more",
        rss_kib()
    );
}
